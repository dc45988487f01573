import type { EventStore, Row, StoredEvent } from '@crm-ledger/core';
import { emptyRecord, recordFrom, upcast, type LedgerEvent } from '@crm-ledger/events';
import {
  foldWithoutVoided,
  PROJECTION_NAMES,
  projections,
  type ProjectionName,
} from '@crm-ledger/projections';
import * as E from 'fp-ts/lib/Either.js';
import { customerEventsInCut, type Cut } from './cut.js';

export interface CustomerViews {
  readonly customerId: string;
  /** The events that went into the views (those in the cut), in stream order. */
  readonly events: readonly StoredEvent[];
  /** Rows of every view, by table, exactly as the live tables would hold them for this history. */
  readonly views: Readonly<Record<ProjectionName, Readonly<Record<string, readonly Row[]>>>>;
}

/**
 * Time travel: folds one customer's events in a cut (`customerEventsInCut`, as of a business time and/or as
 * known at a position) through every projection, in stream order: the rows a rebuild of the views with the
 * same cut holds for this customer. Cheap because every view is keyed by customer and a stream holds one
 * customer's events.
 * A void within the cut removes the event it voids (a void carries its target's `occurredAt`, so a business-time
 * cut keeps both or neither; a position cut before the void shows the event as the ledger knew it then).
 */
export async function customerViewsAsOf(
  store: EventStore,
  customerId: string,
  cut: Cut = {},
): Promise<E.Either<string, CustomerViews>> {
  const selected = await customerEventsInCut(store, customerId, cut);
  if (E.isLeft(selected)) return selected;
  const kept = selected.right;
  const events: { event: LedgerEvent; position: number }[] = [];
  for (const s of kept) {
    const event = upcast(s.event);
    if (event !== undefined) events.push({ event, position: s.globalPosition });
  }
  const views = recordFrom(
    PROJECTION_NAMES.map((name) => {
      const p = projections[name];
      const folded = foldWithoutVoided(p, customerId, events);
      return [name, folded.kept === 0 ? emptyRecord<readonly Row[]>() : p.rows(folded.state)] as const;
    }),
  ) as CustomerViews['views'];
  return E.right({ customerId, events: kept, views });
}
