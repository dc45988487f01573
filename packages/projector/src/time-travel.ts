import type { EventStore, GlobalPosition, Row, StoredEvent } from '@crm-ledger/core';
import { customerStream, upcast, type LedgerEvent } from '@crm-ledger/events';
import { fold, PROJECTION_NAMES, projections, type ProjectionName } from '@crm-ledger/projections';
import * as E from 'fp-ts/lib/Either.js';

/**
 * Which past to look at:
 * - `occurredBefore`: the customer as they were at that instant, as the ledger knows it now (events that
 *   occurred at or before it, including ones back-filled later);
 * - `position`: what the ledger knew at that global position (events stored at or before it).
 * Both may be given; an event must satisfy both.
 */
export interface AsOf {
  readonly occurredBefore?: string;
  readonly position?: GlobalPosition;
}

export interface CustomerViews {
  readonly customerId: string;
  /** The events that went into the views (after the as-of filter), in stream order. */
  readonly events: readonly StoredEvent[];
  /** Rows of every view, by table, exactly as the live tables would hold them for this history. */
  readonly views: Readonly<Record<ProjectionName, Readonly<Record<string, readonly Row[]>>>>;
}

/**
 * Time travel: folds one customer's stream up to the as-of point through every projection. Cheap because
 * every view is keyed by customer and a stream holds one customer's events.
 */
export async function customerViewsAsOf(
  store: EventStore,
  customerId: string,
  asOf: AsOf = {},
): Promise<E.Either<string, CustomerViews>> {
  const read = await store.readStream(customerStream(customerId));
  if (E.isLeft(read)) return E.left(read.left.message);
  const cutoff = asOf.occurredBefore === undefined ? undefined : Date.parse(asOf.occurredBefore);
  const kept = read.right.filter(
    (s) =>
      (asOf.position === undefined || s.globalPosition <= asOf.position) &&
      (cutoff === undefined || Date.parse(s.event.occurredAt) <= cutoff),
  );
  const events: { event: LedgerEvent; position: number }[] = [];
  for (const s of kept) {
    const event = upcast(s.event);
    if (event !== undefined) events.push({ event, position: s.globalPosition });
  }
  const views = Object.fromEntries(
    PROJECTION_NAMES.map((name) => {
      const p = projections[name];
      return [name, p.rows(fold(p, customerId, events))];
    }),
  ) as CustomerViews['views'];
  return E.right({ customerId, events: kept, views });
}
