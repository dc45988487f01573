import { definitionOf, upcast } from '@crm-ledger/events';
import { PERSONAL_FIELDS_IN_VIEWS, PROJECTION_NAMES, fold, projections } from '@crm-ledger/projections';
import { generateHistory } from '@crm-ledger/synthetic';
import { describe, expect, it } from 'vitest';

// The Kafka-mode projector takes from the event store exactly the events whose personal field a view stores
// (kafka-projector.ts): that list must be what the projections do. Every personal field of every event of a
// synthetic history gets a unique marker; the markers found in any view row name the fields views store.
describe('PERSONAL_FIELDS_IN_VIEWS', () => {
  it('names exactly the personal fields whose value ends up in a view row', () => {
    const marks = new Map<string, string>();
    const seenTypes = new Set<string>();
    let n = 0;
    const histories = [...generateHistory({ seed: 5, customers: 120, targetEvents: 12_000 })];
    const found = new Set<string>();
    for (const h of histories) {
      const events = h.events.map((raw, i) => {
        const pii = definitionOf(raw.type)?.pii ?? [];
        const data = { ...(raw.data as Record<string, unknown>) };
        for (const field of pii) {
          if (!Object.hasOwn(data, field)) continue;
          const mark = `PERSONALMARK${++n}X`;
          marks.set(mark, `${raw.type}.${field}`);
          seenTypes.add(`${raw.type}.${field}`);
          data[field] = mark;
        }
        return { event: upcast({ ...raw, data })!, position: i + 1 };
      });
      for (const name of PROJECTION_NAMES) {
        const projection = projections[name];
        const rows = projection.rows(fold(projection, h.customerId, events));
        const text = JSON.stringify(rows);
        for (const m of text.match(/PERSONALMARK\d+X/g) ?? []) found.add(marks.get(m)!);
      }
    }
    const listed = Object.entries(PERSONAL_FIELDS_IN_VIEWS).flatMap(([type, fields]) =>
      (fields ?? []).map((f) => `${type}.${f}`),
    );
    // The history exercised every listed field and many others (so "not found" means something).
    for (const f of listed) expect(seenTypes).toContain(f);
    expect(seenTypes.size).toBeGreaterThan(listed.length + 5);
    expect([...found].sort()).toEqual(listed.sort());
  });
});
