import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from './catalogue.js';
import { jsonSchemas } from './json-schema.js';

describe('JSON Schema generation', () => {
  it('writes one schema per type and version plus an index', () => {
    const files = jsonSchemas();
    for (const type of EVENT_TYPES)
      expect(files.some((f) => f.fileName === `${type}.v1.schema.json`)).toBe(true);
    expect(files.some((f) => f.fileName === 'TicketOpened.v2.schema.json')).toBe(true);
    const v2 = files.find((f) => f.fileName === 'TicketOpened.v2.schema.json')!.schema as {
      properties: { data: { required: string[] } };
      additionalProperties: boolean;
    };
    expect(v2.properties.data.required).toContain('priority');
    expect(v2.additionalProperties).toBe(false);
  });
});
