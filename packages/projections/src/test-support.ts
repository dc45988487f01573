import type { Row } from '@crm-ledger/core';
import type { DataOf, EventType, LedgerEvent } from '@crm-ledger/events';
import { fold, type CustomerProjection } from './projection.js';

let counter = 0;

/** An event of the newest version, for specs: `at` is its occurredAt. */
export function ev<T extends EventType>(
  type: T,
  at: string,
  data: DataOf<T>,
  customerId = 'c1',
): LedgerEvent {
  counter++;
  return {
    eventId: `00000000-0000-4000-8000-${counter.toString().padStart(12, '0')}`,
    type,
    schemaVersion: 1,
    customerId,
    occurredAt: at,
    data,
  } as LedgerEvent;
}

/**
 * given(events).then(projection): folds the events (positions 1, 2, 3...) and returns every view row and the
 * anomalies the projection would write, for given/when/then specs.
 */
export function given(...events: LedgerEvent[]) {
  return {
    then<S>(projection: CustomerProjection<S>): {
      rows: Readonly<Record<string, readonly Row[]>>;
      anomalies: Row[];
      state: S;
    } {
      const state = fold(
        projection,
        events[0]?.customerId ?? 'c1',
        events.map((event, i) => ({ event, position: i + 1 })),
      );
      const anomalies = projection
        .flush(state)
        .flatMap((c) => (c.op === 'upsert' && c.table.endsWith('_anomalies') ? [c.row] : []));
      return { rows: projection.rows(state), anomalies, state };
    },
  };
}
