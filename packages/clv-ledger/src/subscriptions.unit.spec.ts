import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { kaplanMeierRetention, subscriptionClv } from '@crm-ledger/clv';
import type { DataOf, EventType, LedgerEvent } from '@crm-ledger/events';
import { addSubscriptionEvent, cohortTenures, type SubscriptionSpans } from './subscriptions.js';

let n = 0;
const ev = <T extends EventType>(
  type: T,
  customerId: string,
  occurredAt: string,
  data: DataOf<T>,
): LedgerEvent =>
  ({
    eventId: `00000000-0000-4000-8000-${(++n).toString().padStart(12, '0')}`,
    type,
    schemaVersion: 1,
    customerId,
    occurredAt,
    data,
  }) as LedgerEvent;

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' as const });
const started = (c: string, at: string, mrr: number) =>
  ev('SubscriptionStarted', c, at, {
    subscriptionId: 's1',
    plan: 'pro',
    mrr: usd(mrr),
    termMonths: 1,
    renewalDate: '2024-12-01',
  });

describe('cohort retention from subscription events', () => {
  it('months paid per subscription, grouped by start month, feed Kaplan-Meier and the subscription CLV', () => {
    const spans: SubscriptionSpans = new Map();
    for (const e of [
      started('a', '2024-01-05T10:00:00Z', 5000),
      started('b', '2024-01-10T10:00:00Z', 5000),
      started('c', '2024-01-20T10:00:00Z', 5000),
      started('d', '2024-02-01T10:00:00Z', 9000),
      ev('SubscriptionExpanded', 'a', '2024-02-01T00:00:00Z', { subscriptionId: 's1', mrr: usd(7000) }),
      // b cancels after two months and a bit: three months paid
      ev('SubscriptionCancelled', 'b', '2024-03-20T00:00:00Z', { subscriptionId: 's1', reason: 'price' }),
      // c cancels effective one month after its start: one month paid
      ev('SubscriptionCancelled', 'c', '2024-02-01T00:00:00Z', {
        subscriptionId: 's1',
        reason: 'other',
        effectiveDate: '2024-02-20',
      }),
      ev('TicketOpened', 'a', '2024-02-02T00:00:00Z', {
        ticketId: 't1',
        channel: 'email',
        category: 'billing',
        priority: 'low',
      }),
    ])
      addSubscriptionEvent(spans, e);
    expect(spans.get('a/s1')?.mrr).toBe(7000);
    const cohorts = cohortTenures(spans.values(), '2024-06-05');
    expect([...cohorts.keys()].sort()).toEqual(['2024-01', '2024-02']);
    // a runs (5 whole months to 06-05 plus the current one), b paid 3, c paid 1.
    expect(cohorts.get('2024-01')).toEqual([
      { monthsPaid: 6, cancelled: false },
      { monthsPaid: 3, cancelled: true },
      { monthsPaid: 1, cancelled: true },
    ]);
    const retention = E.getOrElseW(() => [])(kaplanMeierRetention(cohorts.get('2024-01')!, 6));
    expect(retention.map((s) => Number(s.toFixed(6)))).toEqual([
      1, 0.666667, 0.666667, 0.333333, 0.333333, 0.333333,
    ]);
    const clv = subscriptionClv({ mrr: 70, margin: 0.8, retention, monthlyDiscountRate: 0 });
    expect(E.isRight(clv) && clv.right.clv).toBeCloseTo(56 * (1 + 2 / 3 + 2 / 3 + 1 / 3 + 1 / 3 + 1 / 3), 4);
  });
});
