import type { SubscriptionTenure } from '@crm-ledger/clv';
import type { LedgerEvent } from '@crm-ledger/events';

/** One subscription as the retention curve needs it. */
export interface SubscriptionSpan {
  readonly customerId: string;
  readonly subscriptionId: string;
  /** When it started (occurredAt of SubscriptionStarted). */
  startedAt: string;
  /** The latest MRR (minor units) and its currency. */
  mrr: number;
  currency: string;
  /** When it ended (the cancellation's effective date, or its occurredAt), null while it runs. */
  endedAt: string | null;
}

/** Subscriptions by `customerId/subscriptionId`. */
export type SubscriptionSpans = Map<string, SubscriptionSpan>;

/**
 * Folds the subscription events into spans: started, MRR changes (expanded, contracted, renewed with a new
 * MRR) and cancellation. Events of unknown subscriptions are skipped; other event types are ignored.
 */
export function addSubscriptionEvent(spans: SubscriptionSpans, event: LedgerEvent): SubscriptionSpans {
  switch (event.type) {
    case 'SubscriptionStarted': {
      const key = `${event.customerId}/${event.data.subscriptionId}`;
      spans.set(key, {
        customerId: event.customerId,
        subscriptionId: event.data.subscriptionId,
        startedAt: event.occurredAt,
        mrr: event.data.mrr.amountMinor,
        currency: event.data.mrr.currency,
        endedAt: null,
      });
      return spans;
    }
    case 'SubscriptionExpanded':
    case 'SubscriptionContracted':
    case 'SubscriptionRenewed': {
      const span = spans.get(`${event.customerId}/${event.data.subscriptionId}`);
      if (span !== undefined && event.data.mrr !== undefined) span.mrr = event.data.mrr.amountMinor;
      return spans;
    }
    case 'SubscriptionCancelled': {
      const span = spans.get(`${event.customerId}/${event.data.subscriptionId}`);
      if (span !== undefined) span.endedAt = event.data.effectiveDate ?? event.occurredAt;
      return spans;
    }
    default:
      return spans;
  }
}

/** Whole calendar months from `from` to `to` (`YYYY-MM-DD`), and whether a part-month is left over. */
function monthsBetween(from: string, to: string): { whole: number; partial: boolean } {
  const [y1, m1, d1] = [Number(from.slice(0, 4)), Number(from.slice(5, 7)), Number(from.slice(8, 10))];
  const [y2, m2, d2] = [Number(to.slice(0, 4)), Number(to.slice(5, 7)), Number(to.slice(8, 10))];
  const whole = (y2 - y1) * 12 + (m2 - m1) - (d2 < d1 ? 1 : 0);
  return { whole: Math.max(0, whole), partial: d2 !== d1 };
}

/**
 * Months paid by each subscription as of `asOf` (billing in advance: a started month is a paid month), grouped
 * by cohort (default: the start month, `YYYY-MM`). Subscriptions that started after `asOf` are left out;
 * those ended after `asOf` count as still running. The result feeds `kaplanMeierRetention`.
 */
export function cohortTenures(
  spans: Iterable<SubscriptionSpan>,
  asOf: string,
  cohortOf: (span: SubscriptionSpan) => string = (s) => s.startedAt.slice(0, 7),
): Map<string, SubscriptionTenure[]> {
  const out = new Map<string, SubscriptionTenure[]>();
  for (const span of spans) {
    if (span.startedAt.slice(0, 10) > asOf.slice(0, 10)) continue;
    const cancelled = span.endedAt !== null && span.endedAt.slice(0, 10) <= asOf.slice(0, 10);
    const end = cancelled ? span.endedAt! : asOf;
    const m = monthsBetween(span.startedAt.slice(0, 10), end.slice(0, 10));
    // Cancelled: the months it ran, a started month paid. Running: the months so far plus the current one.
    const monthsPaid = Math.max(1, cancelled ? m.whole + (m.partial ? 1 : 0) : m.whole + 1);
    const cohort = cohortOf(span);
    const list = out.get(cohort) ?? [];
    list.push({ monthsPaid, cancelled });
    out.set(cohort, list);
  }
  return out;
}
