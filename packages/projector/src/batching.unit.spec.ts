import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Row, RowChange } from '@crm-ledger/core';
import { upcast, type LedgerEvent } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections, type CustomerProjection } from '@crm-ledger/projections';
import { disorder, generateHistory } from '@crm-ledger/synthetic';

// Issue 23: a view must not depend on where the log is cut into batches. The projector writes only the rows
// a projection marks as changed (`flush`); a state change that marks no row shows up only when a later event
// of the same batch happens to mark it. This spec folds disordered histories (business times out of order,
// late events, facts recorded twice) per customer, flushing at random cuts (and reloading the state from its
// JSON at some of them, as an evicted cache does), and checks that the rows written equal the rows the state
// holds, and equal the rows written when every event is its own batch. Pure: no database.

type Tables = Map<string, Map<string, Row>>;

function write(tables: Tables, changes: readonly RowChange[], keys: ReadonlyMap<string, readonly string[]>) {
  for (const c of changes) {
    const pk = keys.get(c.table)!;
    const t = tables.get(c.table) ?? new Map<string, Row>();
    tables.set(c.table, t);
    if (c.op === 'upsert') t.set(JSON.stringify(pk.map((k) => c.row[k])), c.row);
    else t.delete(JSON.stringify(pk.map((k) => c.key[k])));
  }
}

const sorted = (t: Map<string, Row> | undefined): Row[] =>
  [...(t ?? new Map<string, Row>()).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);

/** Folds one customer's events with flushes after the events whose index is in `cuts`. */
function project(
  projection: CustomerProjection<unknown>,
  customerId: string,
  events: readonly { event: LedgerEvent; position: number }[],
  cuts: ReadonlySet<number>,
  reloads: ReadonlySet<number>,
): { tables: Tables; state: unknown } {
  const keys = new Map(projection.spec.tables.map((t) => [t.name, t.primaryKey]));
  const tables: Tables = new Map();
  let state = projection.init(customerId);
  events.forEach(({ event, position }, i) => {
    projection.evolve(state, event, position);
    if (cuts.has(i) || i === events.length - 1) {
      const changes = projection.flush(state);
      write(tables, changes, keys);
      if (reloads.has(i)) {
        const stateRow = changes.find((c) => c.op === 'upsert' && c.table.endsWith('_state'));
        if (stateRow?.op === 'upsert') state = projection.decode(customerId, String(stateRow.row['state']));
      }
    }
  });
  return { tables, state };
}

describe('views do not depend on where the log is cut into batches', () => {
  it('property: over disordered histories, every cut writes the rows the state holds, the same as one event per batch', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (seed, meanBatch, cutSeed) => {
          const log = disorder(generateHistory({ seed, customers: 6, targetEvents: 700 }), {
            seed,
            backdated: 0.2,
            late: 0.1,
            duplicated: 0.1,
          });
          const byCustomer = new Map<string, { event: LedgerEvent; position: number }[]>();
          log.forEach((raw, i) => {
            const event = upcast(raw)!;
            const list = byCustomer.get(event.customerId) ?? [];
            list.push({ event, position: i + 1 });
            byCustomer.set(event.customerId, list);
          });
          let x = cutSeed;
          const rand = (n: number): number => {
            x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
            return x % n;
          };
          for (const [customerId, events] of byCustomer) {
            const cuts = new Set<number>();
            const reloads = new Set<number>();
            for (let i = 0; i < events.length; i++) {
              if (rand(meanBatch) === 0) cuts.add(i);
              if (rand(3) === 0) reloads.add(i);
            }
            const every = new Set(events.map((_, i) => i));
            for (const name of PROJECTION_NAMES) {
              const p = projections[name];
              const cut = project(p, customerId, events, cuts, reloads);
              const one = project(p, customerId, events, every, new Set());
              for (const t of p.spec.tables)
                expect(sorted(cut.tables.get(t.name)), `${name}: ${t.name} of ${customerId}`).toEqual(
                  sorted(one.tables.get(t.name)),
                );
              for (const [table, rows] of Object.entries(p.rows(cut.state))) {
                const key = (r: Row): string =>
                  JSON.stringify(p.spec.tables.find((t) => t.name === table)!.primaryKey.map((k) => r[k]));
                const held = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));
                expect(
                  sorted(cut.tables.get(table)),
                  `${name}: ${table} written vs held, ${customerId}`,
                ).toEqual(held);
              }
            }
          }
        },
      ),
      { numRuns: 15, seed: 23 },
    );
  }, 120_000);
});
