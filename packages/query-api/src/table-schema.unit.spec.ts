import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tableRowSchema } from './table-schema.js';

describe('tableRowSchema', () => {
  const schema = tableRowSchema({
    name: 't',
    primaryKey: ['id'],
    columns: [
      { name: 'id', type: 'text', description: 'the id' },
      { name: 'n', type: 'integer' },
      { name: 'x', type: 'real', nullable: true },
      { name: 'at', type: 'timestamp' },
      { name: 'flag', type: 'boolean' },
    ],
  });

  it('gives every column its JSON type, null only where the column is nullable', () => {
    const json = z.toJSONSchema(schema) as {
      properties: Record<
        string,
        { type?: string | string[]; anyOf?: { type: string }[]; description?: string }
      >;
      required: string[];
    };
    expect(json.required).toEqual(['id', 'n', 'x', 'at', 'flag']);
    expect(json.properties['id']).toMatchObject({ type: 'string', description: 'the id' });
    expect(json.properties['n']?.type).toBe('integer');
    const x = json.properties['x'];
    expect(x?.type ?? x?.anyOf?.map((t) => t.type)).toEqual(['number', 'null']);
    expect(json.properties['n']?.type).not.toContain('null');
    expect(json.properties['at']?.type).toBe('string');
  });

  it('accepts a row of the table and refuses a wrong cell', () => {
    const row = { id: 'a', n: 1, x: null, at: '2024-01-01T00:00:00.000Z', flag: 1 };
    expect(schema.safeParse(row).success).toBe(true);
    expect(schema.safeParse({ ...row, n: 1.5 }).success).toBe(false);
    expect(schema.safeParse({ ...row, id: null }).success).toBe(false);
    expect(schema.safeParse({ ...row, flag: 2 }).success).toBe(false);
  });
});
