import { emptyRecord } from '@crm-ledger/events';
import type { CustomerHistory } from './generate.js';

export interface HistorySummary {
  readonly customers: number;
  readonly events: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly firstOccurredAt: string | undefined;
  readonly lastOccurredAt: string | undefined;
}

/** Counts customers and events (by type) of a history, consuming it once. */
export function summarize(history: Iterable<CustomerHistory>): HistorySummary {
  const byType = emptyRecord<number>();
  let customers = 0;
  let events = 0;
  let first: string | undefined;
  let last: string | undefined;
  for (const c of history) {
    customers++;
    for (const e of c.events) {
      events++;
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      if (first === undefined || e.occurredAt < first) first = e.occurredAt;
      if (last === undefined || e.occurredAt > last) last = e.occurredAt;
    }
  }
  return { customers, events, byType, firstOccurredAt: first, lastOccurredAt: last };
}
