import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventStore, Row, StoredEvent } from '@crm-ledger/core';
import { recordFrom, customerStream, upcast, type LedgerEvent } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections, type Positioned, type ProjectionName } from '@crm-ledger/projections';
import * as E from 'fp-ts/lib/Either.js';

const CONTACT_TYPES = new Set(['CustomerRegistered', 'CustomerProfileUpdated', 'CustomerErased']);

/**
 * The time one page of a stream walk (its read and what the caller does with it) aims to take, in ms: the page
 * size adapts to it (a page is never split, so one walk holds the event loop about this long at once).
 */
export const FOLD_SLICE_MS = 3;
/**
 * The time all walks together may hold the event loop in one of its turns, in ms: once spent, every walk waits for
 * the next turn, so the requests that arrive meanwhile (`/health`, a short 360) wait about this long per turn they
 * need, however many heavy requests were admitted (4 per key, 16 in all by default) and however long their streams
 * (docs/security.md "Bounded cost").
 */
export const TURN_BUDGET_MS = 10;
/** Page sizes (events) a walk chooses from: the first page, and the bounds of every later one. */
export const FOLD_PAGE = { first: 200, min: 50, max: 5_000 } as const;

/**
 * The walks' shared budget of the current turn of the event loop: `used` is reset by a sentinel immediate that
 * runs first in each check phase while any walk waits (it queues itself again before any walk can).
 */
const turn = { used: 0, waiting: 0, sentinel: false };

function keepSentinel(): void {
  if (turn.sentinel) return;
  turn.sentinel = true;
  const tick = (): void => {
    turn.used = 0;
    if (turn.waiting > 0) setImmediate(tick);
    else turn.sentinel = false;
  };
  setImmediate(tick);
}

/** Waits for a later turn of the event loop whose budget is not spent (I/O and timers run in between). */
async function nextSlot(): Promise<void> {
  turn.waiting++;
  try {
    keepSentinel();
    do await nextTurn();
    while (turn.used >= TURN_BUDGET_MS);
  } finally {
    turn.waiting--;
  }
}

/**
 * Reads one stream forwards page by page and hands each page to `onPage`; before every page it waits for a turn
 * of the event loop with budget left (`TURN_BUDGET_MS`, shared by every walk in the process), and charges the
 * page's time to it. The size of each page comes from the time the last one took (read + `onPage`, per event), so
 * a page costs about `FOLD_SLICE_MS` whatever the store (SQLite reads are synchronous, PostgreSQL's are not) and
 * whatever the events weigh; it at most doubles from one page to the next. Pages never overlap or skip: the result
 * is the same as one read of the whole stream, handed over in pieces.
 */
export async function walkStream(
  store: EventStore,
  stream: string,
  onPage: (events: readonly StoredEvent[]) => void,
): Promise<void> {
  let size: number = FOLD_PAGE.first;
  for (let from = 0; ;) {
    await nextSlot();
    const t0 = performance.now();
    const page = await store.readStream(stream, { fromRevision: from, maxCount: size });
    if (E.isLeft(page)) throw new Error(page.left.message);
    onPage(page.right);
    const ms = performance.now() - t0;
    turn.used += ms;
    if (page.right.length < size) return;
    from += page.right.length;
    const perEvent = Math.max(ms, 0.01) / page.right.length;
    size = Math.min(FOLD_PAGE.max, 2 * size, Math.max(FOLD_PAGE.min, Math.floor(FOLD_SLICE_MS / perEvent)));
  }
}

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
 * page by page (`walkStream`: pages of about `FOLD_SLICE_MS`, at most `TURN_BUDGET_MS` of all walks per turn
 * of the event loop), so a long stream never blocks `/health` or other requests for more than a turn's budget, and concurrent requests interleave (which lets the
 * concurrency limit answer 429). The cut (which events count as of the requested point) is an input: the caller's as-of semantics. Keeps
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
  await walkStream(store, customerStream(customerId), (page) => {
    for (const stored of page) {
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
  });
  const views = recordFrom(
    states.map((x) => [x.name, x.p.rows(x.s as never)] as const),
  ) as PagedFold['views'];
  return { fold: { events: recent.slice(-keepLast), kept, contactEvents, picked, views }, voided: voids };
}
