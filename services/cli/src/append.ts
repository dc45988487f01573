import * as E from 'fp-ts/lib/Either.js';
import { isIdempotencyConflict, type EventStore } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { appendCustomerEvents, type CustomerOutcome } from '@crm-ledger/ingest-api';

export interface Written {
  appended: number;
  duplicate: number;
}

export type Failure = {
  outcome: Exclude<CustomerOutcome, { status: 'appended' | 'duplicate' }>;
  index: number;
};

/**
 * Appends one customer's events atomically. If a batch mixes stored and new events (an import was
 * interrupted, or an earlier file held some of the same records) the store refuses it as a whole
 * (`partial_batch`); then each event is appended on its own, which is idempotent one by one.
 * Returns the counts, or (Left) the first failure and the index of the event it concerns.
 */
export async function appendResumable(
  store: EventStore,
  customerId: string,
  events: readonly RawEnvelope[],
): Promise<E.Either<Failure, Written>> {
  const outcome = await appendCustomerEvents(store, customerId, events);
  switch (outcome.status) {
    case 'appended':
      return E.right({ appended: events.length, duplicate: 0 });
    case 'duplicate':
      return E.right({ appended: 0, duplicate: events.length });
    case 'conflict':
      if (isIdempotencyConflict(outcome.error) && outcome.error.reason === 'partial_batch') break;
      return E.left({ outcome, index: indexOf(events, outcome) });
    case 'invalid':
    case 'unavailable':
    case 'gone':
      return E.left({ outcome, index: 0 });
  }
  const written = { appended: 0, duplicate: 0 };
  for (const [index, event] of events.entries()) {
    const one = await appendCustomerEvents(store, customerId, [event]);
    if (one.status === 'appended') written.appended += 1;
    else if (one.status === 'duplicate') written.duplicate += 1;
    else return E.left({ outcome: one, index });
  }
  return E.right(written);
}

function indexOf(events: readonly RawEnvelope[], outcome: CustomerOutcome): number {
  if (outcome.status !== 'conflict' || !isIdempotencyConflict(outcome.error)) return 0;
  const id = outcome.error.eventId;
  return Math.max(
    0,
    events.findIndex((e) => e.eventId === id),
  );
}

/** Runs `tasks` with at most `limit` in flight (lets the store's group commit share fsyncs). */
export async function inPool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
