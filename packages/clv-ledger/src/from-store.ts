import * as E from 'fp-ts/lib/Either.js';
import type { FitError, RfmValueSummary } from '@crm-ledger/clv';
import type { Clock, EventStore, GlobalPosition } from '@crm-ledger/core';
import { parseEvent, type ValidationIssue } from '@crm-ledger/events';
import { fitClvModels, type ClvFitOptions, type ClvFitRecord } from './fit.js';
import { addToTally, newTally, type PurchaseDaysTally } from './purchase-days.js';

/** A stored event no longer parses against the catalogue (a bug or a removed schema version): nothing was fitted. */
export interface UnreadableEvent {
  readonly type: 'UnreadableEvent';
  readonly globalPosition: GlobalPosition;
  readonly issues: readonly ValidationIssue[];
}

export type ClvFromStoreError = FitError | UnreadableEvent;

/**
 * Folds every PurchaseMade of the global log into per-customer purchase days (one pass, one page in memory).
 * The window is on `occurredAt` (when the purchase happened), not on `recordedAt`: imported history is
 * recorded long after it happened. Voided purchases (`EventVoided`) are left out: a ledger with voids is read
 * a second time, skipping them (a ledger without any is read once).
 */
export async function tallyPurchases(
  store: EventStore,
  options: Pick<ClvFitOptions, 'observationEnd' | 'currency'>,
): Promise<E.Either<UnreadableEvent, PurchaseDaysTally>> {
  const voided = new Set<string>();
  const first = await tallyOnce(store, options, voided, new Set());
  if (E.isLeft(first) || voided.size === 0) return first;
  return tallyOnce(store, options, new Set(), voided);
}

async function tallyOnce(
  store: EventStore,
  options: Pick<ClvFitOptions, 'observationEnd' | 'currency'>,
  voids: Set<string>,
  skip: ReadonlySet<string>,
): Promise<E.Either<UnreadableEvent, PurchaseDaysTally>> {
  const tally = newTally();
  for await (const page of store.readAll({ batchSize: 5000 })) {
    for (const stored of page) {
      if (stored.event.type === 'EventVoided') {
        const target = (stored.event.data as { eventId?: unknown } | null)?.eventId;
        if (typeof target === 'string') voids.add(`${stored.event.customerId}|${target}`);
        continue;
      }
      if (stored.event.type !== 'PurchaseMade') continue;
      if (skip.has(`${stored.event.customerId}|${stored.event.eventId}`)) continue;
      const event = parseEvent(stored.event);
      if (E.isLeft(event))
        return E.left({
          type: 'UnreadableEvent',
          globalPosition: stored.globalPosition,
          issues: event.left.issues,
        });
      addToTally(tally, event.right, options.observationEnd, options.currency);
    }
  }
  return E.right(tally);
}

/** Reads the store, summarises each customer at the window end, fits both models, stamps the record with the clock. */
export async function fitClvFromStore(
  store: EventStore,
  options: ClvFitOptions,
  clock: Clock,
): Promise<E.Either<ClvFromStoreError, { record: ClvFitRecord; summaries: Map<string, RfmValueSummary> }>> {
  const tally = await tallyPurchases(store, options);
  if (E.isLeft(tally)) return tally;
  return fitClvModels(tally.right, options, clock.now());
}
