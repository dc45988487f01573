import type { Row, RowChange } from '@crm-ledger/core';
import type { LedgerEvent } from '@crm-ledger/events';
import { describe, expect, it } from 'vitest';
import { PROJECTION_NAMES } from './projection.js';
import { projections } from './all.js';
import { ev } from './test-support.js';
import { foldWithoutVoided, refoldChanges, withoutVoided, type Positioned } from './void.js';

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' as const });
const at = (events: LedgerEvent[]): Positioned[] => events.map((event, i) => ({ event, position: i + 1 }));
const voiding = (target: LedgerEvent, when = target.occurredAt): LedgerEvent =>
  ev('EventVoided', when, { eventId: target.eventId, reason: 'wrong mapping' });

/** Applies row changes to an in-memory copy of a customer's rows (by primary key). */
function applyChanges(
  start: Record<string, Row[]>,
  changes: readonly RowChange[],
  pk: (t: string) => readonly string[],
) {
  const tables: Record<string, Map<string, Row>> = {};
  const key = (t: string, r: Row) => JSON.stringify(pk(t).map((c) => r[c] ?? null));
  for (const [t, rows] of Object.entries(start)) tables[t] = new Map(rows.map((r) => [key(t, r), r]));
  for (const c of changes) {
    const m = (tables[c.table] ??= new Map());
    if (c.op === 'upsert') m.set(key(c.table, c.row), c.row);
    else m.delete(key(c.table, c.key));
  }
  return tables;
}

describe('corrections: a void re-folds the customer as if the voided event had never been recorded', () => {
  const registered = ev('CustomerRegistered', '2024-01-01T00:00:00Z', {
    segment: 'B2B',
    acquisitionChannel: 'referral',
  });
  const wrong = ev('PurchaseMade', '2024-02-01T00:00:00Z', { orderId: 'o1', amount: usd(100_000) });
  // A later event that depended on the voided one: a refund of the wrong purchase.
  const refund = ev('RefundIssued', '2024-02-03T00:00:00Z', {
    refundId: 'r1',
    orderId: 'o1',
    amount: usd(500),
  });
  const right = ev('PurchaseMade', '2024-02-01T00:00:00Z', { orderId: 'o1b', amount: usd(1_000) });
  const ticket = ev('TicketOpened', '2024-03-01T00:00:00Z', {
    ticketId: 't1',
    channel: 'email',
    category: 'delivery',
    priority: 'normal',
  });

  it.each(PROJECTION_NAMES)(
    '%s: with the void, every row equals the history that never had the event',
    (name) => {
      const p = projections[name];
      const withVoid = at([registered, wrong, refund, right, ticket, voiding(wrong)]);
      const never = withVoid.filter(
        (e) => e.event.eventId !== wrong.eventId && e.event.type !== 'EventVoided',
      );
      const a = foldWithoutVoided(p, 'c1', withVoid);
      const b = foldWithoutVoided(p, 'c1', never);
      expect(p.rows(a.state)).toEqual(p.rows(b.state));
    },
  );

  it('the value view drops the voided purchase but keeps the refund that followed it (same as never recorded)', () => {
    const p = projections.value;
    const { state } = foldWithoutVoided(p, 'c1', at([registered, wrong, refund, right, voiding(wrong)]));
    expect(p.rows(state)['value_customers']![0]).toMatchObject({
      orders: 1,
      gross_revenue_minor: 1_000,
      refunds_minor: 500,
    });
  });

  it('a void of a void changes nothing, the voids themselves are no events of the customer', () => {
    const v = voiding(wrong);
    const kept = withoutVoided(at([registered, wrong, v, voiding(v)]));
    expect(kept.map((k) => k.event.eventId)).toEqual([registered.eventId]);
  });

  it('refoldChanges turns the live rows into the re-folded rows: rows that disappear are deleted', () => {
    for (const name of PROJECTION_NAMES) {
      const p = projections[name];
      const pk = (t: string) => p.spec.tables.find((s) => s.name === t)?.primaryKey ?? [];
      // Before: the view folded the wrong purchase in another month, so its month row must go.
      const wrongMarch = ev('PurchaseMade', '2024-05-01T00:00:00Z', { orderId: 'o9', amount: usd(9_999) });
      const history = at([registered, right, wrongMarch]);
      const before = foldWithoutVoided(p, 'c1', history).state;
      const live = Object.fromEntries(Object.entries(p.rows(before)).map(([t, r]) => [t, [...r]]));
      const after = foldWithoutVoided(p, 'c1', [...history, { event: voiding(wrongMarch), position: 4 }]);
      const result = applyChanges(live, refoldChanges(p, 'c1', before, [], after), pk);
      const expected = foldWithoutVoided(p, 'c1', at([registered, right])).state;
      for (const [t, rows] of Object.entries(p.rows(expected)))
        expect(
          [...(result[t]?.values() ?? [])].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)),
        ).toEqual([...rows].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)));
    }
  });

  it('when every event of a customer is voided, the customer disappears from the view', () => {
    const p = projections.value;
    const before = foldWithoutVoided(p, 'c1', at([wrong])).state;
    const after = foldWithoutVoided(p, 'c1', at([wrong, voiding(wrong)]));
    expect(after.kept).toBe(0);
    const changes = refoldChanges(p, 'c1', before, [], after);
    expect(changes.every((c) => c.op === 'delete')).toBe(true);
    expect(changes.map((c) => c.table).sort()).toEqual([
      'value_currencies',
      'value_customers',
      'value_months',
      'value_state',
    ]);
  });
});
