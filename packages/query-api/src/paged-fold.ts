import type { EventStore, Row, StoredEvent } from '@crm-ledger/core';
import { recordFrom, customerStream, upcast, type LedgerEvent } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections, type Positioned, type ProjectionName } from '@crm-ledger/projections';

const CONTACT_TYPES = new Set(['CustomerRegistered', 'CustomerProfileUpdated', 'CustomerErased']);

/** Events read and folded per page; the event loop is yielded between pages. */
export const FOLD_PAGE = 5_000;

export interface PagedFold {
  /** The events the cut kept, most recent `keepLast` only (for the timeline and contact details). */
  readonly events: readonly StoredEvent[];
  /** How many events the cut kept in all. */
  readonly kept: number;
  /** Every kept registration, profile update and erasure: what contact details are folded from. */
  readonly contactEvents: readonly StoredEvent[];
  /** Every kept event the caller's `pick` selected (upcast, with its position; none without a `pick`). */
  readonly picked: readonly Positioned[];
  readonly views: Readonly<Record<ProjectionName, Readonly<Record<string, readonly Row[]>>>>;
}

/**
 * Time travel at a bounded cost per turn of the event loop: folds one customer's stream through every projection
 * page by page (`FOLD_PAGE` events), yielding between pages, so a long stream never blocks `/health` or other
 * requests for more than one page, and concurrent requests interleave (which lets the concurrency limit answer
 * 429). The cut (which events count as of the requested point) is an input: the caller's as-of semantics. Keeps
 * only the last `keepLast` kept events, so memory is bounded by a page, not by the stream.
 */
export async function foldCustomerPaged(
  store: EventStore,
  customerId: string,
  cut: (event: StoredEvent) => boolean,
  keepLast: number,
  pick: (event: LedgerEvent) => boolean = () => false,
): Promise<PagedFold> {
  const first = await foldPass(store, customerId, cut, keepLast, new Set(), pick);
  // A void in the cut takes its voided event out of every view, wherever it stands in the stream: fold again
  // without the voided events (only customers with a void pay for a second pass), as a rebuild does.
  if (first.voided.size === 0) return first.fold;
  return (await foldPass(store, customerId, cut, keepLast, first.voided, pick)).fold;
}

async function foldPass(
  store: EventStore,
  customerId: string,
  cut: (event: StoredEvent) => boolean,
  keepLast: number,
  voided: ReadonlySet<string>,
  pick: (event: LedgerEvent) => boolean,
): Promise<{ fold: PagedFold; voided: Set<string> }> {
  const states = PROJECTION_NAMES.map((name) => ({
    name,
    p: projections[name],
    s: projections[name].init(customerId),
  }));
  let recent: StoredEvent[] = [];
  const contactEvents: StoredEvent[] = [];
  const picked: Positioned[] = [];
  const voids = new Set<string>();
  let kept = 0;
  for (let from = 0; ; from += FOLD_PAGE) {
    const page = await store.readStream(customerStream(customerId), {
      fromRevision: from,
      maxCount: FOLD_PAGE,
    });
    if (page._tag === 'Left') throw new Error(page.left.message);
    for (const stored of page.right) {
      if (!cut(stored)) continue;
      const event = upcast(stored.event);
      if (event?.type === 'EventVoided') voids.add(event.data.eventId);
      // the voided events and the voids themselves have no effect (foldWithoutVoided, the rebuild's rule)
      if (voided.has(stored.event.eventId) || event?.type === 'EventVoided') continue;
      kept++;
      if (event !== undefined && event.type !== 'ExchangeRateRecorded')
        for (const x of states) x.p.evolve(x.s, event, stored.globalPosition);
      recent.push(stored);
      if (CONTACT_TYPES.has(stored.event.type)) contactEvents.push(stored);
      if (event !== undefined && pick(event)) picked.push({ position: stored.globalPosition, event });
    }
    if (recent.length > 2 * keepLast) recent = recent.slice(-keepLast);
    if (page.right.length < FOLD_PAGE) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const views = recordFrom(
    states.map((x) => [x.name, x.p.rows(x.s as never)] as const),
  ) as PagedFold['views'];
  return { fold: { events: recent.slice(-keepLast), kept, contactEvents, picked, views }, voided: voids };
}
