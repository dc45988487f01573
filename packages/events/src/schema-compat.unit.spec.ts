import { describe, expect, it } from 'vitest';
import { jsonSchemas } from './json-schema.js';
import { incompatibleChanges } from './schema-compat.js';

const current = new Map(jsonSchemas().map((f) => [f.fileName, f.schema as unknown]));
interface DataSchema {
  properties: Record<string, Record<string, unknown>>;
  required: string[];
}
type Schema = Record<string, unknown> & { properties: { data: DataSchema } };
const clone = (file: string) => structuredClone(current.get(file)) as Schema;
const data = (s: Schema) => s.properties.data;
const withFile = (file: string, schema: unknown) => new Map([...current, [file, schema]]);

describe('released JSON Schemas may change only in their annotations', () => {
  it('the current schemas are compatible with themselves', () => {
    expect(incompatibleChanges(current, current)).toEqual([]);
  });

  it('a new description or title is compatible', () => {
    const s = clone('TicketEscalated.v1.schema.json');
    s['description'] = 'reworded';
    data(s).properties['ticketId']!['description'] = 'the ticket';
    expect(incompatibleChanges(current, withFile('TicketEscalated.v1.schema.json', s))).toEqual([]);
  });

  it.each([
    ['a field added', (s: Schema) => (data(s).properties['extra'] = { type: 'string' })],
    ['a field removed', (s: Schema) => delete data(s).properties['reason']],
    ['a bound changed', (s: Schema) => (data(s).properties['toTier']!['maximum'] = 9)],
    ['a field made required', (s: Schema) => data(s).required.push('reason')],
    ['a classification changed', (s: Schema) => (data(s).properties['reason']!['x-personal'] = false)],
  ])('%s is incompatible', (_what, change) => {
    const s = clone('TicketEscalated.v1.schema.json');
    change(s);
    const problems = incompatibleChanges(current, withFile('TicketEscalated.v1.schema.json', s));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^TicketEscalated\.v1\.schema\.json: changed incompatibly at \/properties\/data\/.*declare a new version/,
    );
  });

  it('removing a released version is incompatible; a new version or event type is not', () => {
    const without = new Map(current);
    without.delete('TicketOpened.v1.schema.json');
    expect(incompatibleChanges(current, without)).toEqual([
      'TicketOpened.v1.schema.json: a released version was removed (old versions stay published)',
    ]);
    const released = new Map(current);
    released.delete('TicketOpened.v2.schema.json');
    released.delete('FeedbackGiven.v1.schema.json');
    expect(incompatibleChanges(released, current)).toEqual([]);
  });

  it('older versions publish their upcast rules as data in index.json', () => {
    const index = current.get('index.json') as {
      events: { type: string; version: number; upcastToNext?: unknown }[];
    };
    const v1 = index.events.find((e) => e.type === 'TicketOpened' && e.version === 1);
    expect(v1?.upcastToNext).toEqual([{ op: 'default', field: 'priority', value: 'normal' }]);
    expect(
      index.events.find((e) => e.type === 'TicketOpened' && e.version === 2)?.upcastToNext,
    ).toBeUndefined();
  });
});
