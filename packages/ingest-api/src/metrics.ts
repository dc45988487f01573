import * as E from 'fp-ts/lib/Either.js';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventStore } from '@crm-ledger/core';

/**
 * The ingest API's view of the event store, metered: events appended and duplicates (counted per event), refused
 * appends by error type, and the time of each append (one atomic append of one customer's events).
 */
export function meteredStore(store: EventStore, registry: Registry): EventStore {
  const appended = new Counter({
    name: 'crm_ledger_events_appended_total',
    help: 'Events appended through the ingest API (new: stored now; duplicate: an idempotent retry, nothing written)',
    labelNames: ['result'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'crm_ledger_appends_refused_total',
    help: 'Appends the store refused, by error type (WrongExpectedRevision, IdempotencyConflict, ...)',
    labelNames: ['error'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'crm_ledger_append_duration_seconds',
    help: "Time of one atomic append (one customer's events), including the durable commit",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // the store's other methods, unchanged (bound, so private fields of a class-based store keep working)
  const metered: EventStore = {
    readStream: store.readStream.bind(store),
    readAll: store.readAll.bind(store),
    subscribe: store.subscribe.bind(store),
    headPosition: store.headPosition.bind(store),
    positionAt: store.positionAt.bind(store),
    close: store.close.bind(store),
    ...(store.subscriptionStatus === undefined
      ? {}
      : { subscriptionStatus: () => store.subscriptionStatus?.() ?? [] }),
    append: async (streamName, events, options) => {
      const end = latency.startTimer();
      const result = await store.append(streamName, events, options);
      end();
      if (E.isRight(result))
        appended.inc({ result: result.right.duplicate ? 'duplicate' : 'new' }, events.length);
      else refused.inc({ error: result.left.type });
      return result;
    },
  };
  return metered;
}
