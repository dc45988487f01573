import { z } from 'zod';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore, GlobalPosition, StoredEvent } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';

/**
 * The one vocabulary of cuts, used by `crm-ledger replay` and `export`, the query API and the dashboard.
 *
 * Two times (bitemporal):
 * - **as of** (business time): what had happened by T — events whose `occurredAt` is at or before T, whenever
 *   the ledger learned them (a purchase back-filled today that occurred last year is in "as of last year");
 * - **as known at** (ledger time): what the ledger knew at T or at a global position — events stored at or
 *   before that position (an instant means the last position recorded at or before it).
 * Both together: what had happened by T1 as the ledger knew it at T2. An event is in the cut when it
 * satisfies both.
 *
 * The events of a cut are applied in the order the ledger recorded them (global position; within a customer,
 * stream revision), never re-sorted by `occurredAt`: a late event is applied when it arrives, and each view
 * decides what an earlier `occurredAt` means (latest-wins fields compare occurredAt, counters just add). A
 * rebuild and the query API's fold select the same events in the same order, so they give the same rows.
 */

/** End of a calendar day in UTC: a date as a cut means "by the end of that day". */
const endOfDay = (date: string): string => `${date}T23:59:59.999Z`;

const INSTANT_MESSAGE =
  'an instant (ISO-8601 with Z or an offset, e.g. 2025-06-30T00:00:00Z or 2025-06-30T02:00:00+02:00) or a date ' +
  '(2025-06-30: the end of that day, UTC)';

/**
 * An instant of a cut, normalised to UTC with milliseconds: ISO-8601 with `Z` or an offset
 * (`2025-06-30T02:00:00+02:00` is `2025-06-30T00:00:00.000Z`), or a calendar date meaning the end of that day
 * in UTC (`2025-06-30` is `2025-06-30T23:59:59.999Z`).
 */
export const CutInstant = z.union(
  [
    z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString()),
    z.iso.date().transform(endOfDay),
  ],
  { error: INSTANT_MESSAGE },
);

/** A point of ledger time as asked: a global position, or an instant (resolved to the last position recorded by then). */
export type KnownAt = { readonly position: GlobalPosition } | { readonly recordedBy: string };

/** "As known at": a global position (a whole number) or a {@link CutInstant}. */
export const KnownAt = z.union(
  [
    z
      .string()
      .regex(/^\d{1,15}$/)
      .transform((s): KnownAt => ({ position: Number(s) })),
    CutInstant.transform((t): KnownAt => ({ recordedBy: t })),
  ],
  { error: `a global position (a whole number) or ${INSTANT_MESSAGE}` },
);

/** A cut as asked by a user: either time, both, or neither (everything the ledger holds). */
export interface CutRequest {
  /** Business time, normalised ({@link CutInstant}). */
  readonly asOf?: string;
  readonly asKnownAt?: KnownAt;
}

/** A cut resolved against a log: ledger time is a position. */
export interface Cut {
  /** Business time: events that occurred at or before this instant (undefined: whenever they occurred). */
  readonly asOf?: string;
  /** Ledger time: events stored at or before this global position (undefined: everything stored). */
  readonly position?: GlobalPosition;
}

/** Resolves ledger time to a global position (an instant: the last event recorded at or before it). */
export async function resolveCut(store: EventStore, request: CutRequest): Promise<Cut> {
  const k = request.asKnownAt;
  const position =
    k === undefined ? undefined : 'position' in k ? k.position : await store.positionAt(k.recordedBy);
  return {
    ...(request.asOf === undefined ? {} : { asOf: request.asOf }),
    ...(position === undefined ? {} : { position }),
  };
}

/** True when the cut selects everything the ledger holds. */
export const isWholeLog = (cut: Cut): boolean => cut.asOf === undefined && cut.position === undefined;

/**
 * The predicate of a cut: the one definition of which stored events a cut selects. Times compare as instants
 * (stored `occurredAt` may have seconds or milliseconds).
 */
export function inCut(cut: Cut): (stored: StoredEvent) => boolean {
  const asOf = cut.asOf === undefined ? undefined : Date.parse(cut.asOf);
  const position = cut.position;
  if (asOf === undefined) return position === undefined ? () => true : (s) => s.globalPosition <= position;
  return (s) =>
    (position === undefined || s.globalPosition <= position) && Date.parse(s.event.occurredAt) <= asOf;
}

/**
 * One customer's events in a cut, in stream order: what the query API folds for a 360 as of a cut (and what a
 * bounded-cost 360 must select, whatever it starts from).
 */
export async function customerEventsInCut(
  store: EventStore,
  customerId: string,
  cut: Cut,
): Promise<E.Either<string, readonly StoredEvent[]>> {
  const read = await store.readStream(customerStream(customerId));
  if (E.isLeft(read)) return E.left(read.left.message);
  return E.right(read.right.filter(inCut(cut)));
}

/** What a cut selects from the log, against what the live views hold: printed before a rebuild swaps. */
export interface CutCount {
  /** Events of the log read (up to the cut's position or the head, whichever is further, and the live checkpoint). */
  readonly read: number;
  /** Events the cut selects. */
  readonly selected: number;
  /** Events stored at or before the live checkpoint: what the live views were built from. */
  readonly live: number;
  /** The position the rebuild stops at (the cut's, else the head). */
  readonly position: GlobalPosition;
  /** Earliest and latest `occurredAt` of the selected events (undefined when none). */
  readonly firstOccurredAt?: string;
  readonly lastOccurredAt?: string;
}

/**
 * Counts what a cut selects (one read of the log, nothing written): the events in the cut, and the events up
 * to `liveCheckpoint` (what the live views were built from), so that a rebuild that would shrink a view can
 * be refused before it starts.
 */
export async function countCut(
  store: EventStore,
  cut: Cut,
  liveCheckpoint: GlobalPosition,
  batchSize = 5_000,
): Promise<CutCount> {
  const position = cut.position ?? (await store.headPosition());
  const select = inCut({ ...cut, position });
  let read = 0;
  let selected = 0;
  let live = 0;
  let first: number | undefined;
  let last: number | undefined;
  const until = Math.max(position, liveCheckpoint);
  if (until > 0)
    for await (const page of store.readAll({ after: 0, until, batchSize })) {
      for (const s of page) {
        read++;
        if (s.globalPosition <= liveCheckpoint) live++;
        if (!select(s)) continue;
        selected++;
        const t = Date.parse(s.event.occurredAt);
        if (first === undefined || t < first) first = t;
        if (last === undefined || t > last) last = t;
      }
    }
  return {
    read,
    selected,
    live,
    position,
    ...(first === undefined ? {} : { firstOccurredAt: new Date(first).toISOString() }),
    ...(last === undefined ? {} : { lastOccurredAt: new Date(last).toISOString() }),
  };
}

/** Describes a cut in words, e.g. `as of 2025-06-30T23:59:59.999Z, as known at position 1200`. */
export function describeCut(cut: Cut): string {
  const parts = [
    ...(cut.asOf === undefined ? [] : [`as of ${cut.asOf}`]),
    ...(cut.position === undefined ? [] : [`as known at position ${cut.position}`]),
  ];
  return parts.length === 0 ? 'the whole log' : parts.join(', ');
}
