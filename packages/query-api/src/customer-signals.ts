import type { EventStore, StoredEvent } from '@crm-ledger/core';
import * as E from 'fp-ts/lib/Either.js';
import {
  SIGNAL_TYPES,
  customerStream,
  definitionOf,
  emptyRecord,
  isSignalAreaType,
  upcast,
  type LedgerEvent,
} from '@crm-ledger/events';
import {
  signalStatuses,
  signalSummary,
  type Positioned,
  type SignalStatus,
  type SignalSummary,
} from '@crm-ledger/projections';
import { inCut, resolveCut, type KnownAt } from '@crm-ledger/projector';
import { walkStream } from './paged-fold.js';

const SIGNAL_TYPE_SET: ReadonlySet<string> = new Set(SIGNAL_TYPES);

/** One signal of a customer and where it stands, with its own data (ids, numbers, enumerations: no personal data). */
export interface CustomerSignal extends SignalStatus {
  readonly data: Readonly<Record<string, unknown>>;
}

/** A customer's signals as of a time: each with its status, and the counts of the success view. */
export interface CustomerSignals {
  readonly signals: readonly CustomerSignal[];
  readonly summary: SignalSummary;
}

/**
 * True for an event that can open or close a signal: a signal, an acknowledgement, an outreach or a ticket that
 * names its cause (`causationId`), and a void (which may take any of them back). The rest of a customer's stream
 * has no say in a signal's status, so a read keeps only these (memory bounded by the signals, not the stream).
 */
export const bearsOnSignals = (event: LedgerEvent): boolean =>
  isSignalAreaType(event.type) ||
  event.type === 'EventVoided' ||
  ((event.type === 'OutreachMade' || event.type === 'TicketOpened') && event.causationId !== undefined);

/**
 * The events of one customer's stream in `cut` that bear on signals (`bearsOnSignals`), read page by page
 * (`walkStream`: pages of a bounded time, yielding between pages), and how many events of the stream the cut kept in all (0: no
 * such customer at that point).
 */
export async function signalHistory(
  store: EventStore,
  customerId: string,
  cut: (stored: StoredEvent) => boolean,
): Promise<{ readonly kept: number; readonly history: readonly Positioned[] }> {
  const history: Positioned[] = [];
  let kept = 0;
  await walkStream(store, customerStream(customerId), (page) => {
    for (const stored of page) {
      if (!cut(stored)) continue;
      kept++;
      const event = upcast(stored.event);
      if (event !== undefined && bearsOnSignals(event))
        history.push({ position: stored.globalPosition, event });
    }
  });
  return { kept, history };
}

/**
 * Where each signal of the history stands as of `asOf` (`signalStatuses`: voids applied, a signal closed by the
 * earliest outreach, ticket or acknowledgement naming it), oldest first, each with its data (fields the
 * catalogue marks personal left out, as in the timeline), and the summary over all of them.
 */
export function customerSignals(history: readonly Positioned[], asOf: string): CustomerSignals {
  const dataOf = new Map(history.map((p) => [p.event.eventId, p.event] as const));
  const statuses = signalStatuses(history, asOf);
  const signals = statuses.map((s) => {
    const event = dataOf.get(s.signalId);
    const pii = new Set(definitionOf(s.type)?.pii ?? []);
    const data = emptyRecord<unknown>();
    if (event !== undefined && event.data !== null && typeof event.data === 'object')
      for (const [k, v] of Object.entries(event.data)) if (!pii.has(k)) data[k] = v;
    return { ...s, data };
  });
  return { signals, summary: signalSummary(statuses) };
}

/** What `GET /v1/customers/:customerId/signals` asks: the 360's cut and two filters. */
export interface SignalsRequest {
  readonly asOf?: string | undefined;
  readonly asKnownAt?: KnownAt | undefined;
  /** The old name of `asKnownAt` as a position. */
  readonly asOfPosition?: number | undefined;
  readonly status?: SignalStatus['status'] | undefined;
  readonly type?: SignalStatus['type'] | undefined;
}

/** The answer of `GET /v1/customers/:customerId/signals`. */
export interface SignalsAnswer extends CustomerSignals {
  readonly customerId: string;
  readonly asOf: string;
  /** The ledger-time cut (a global position); null: everything the ledger knows. */
  readonly asKnownAt: number | null;
}

/**
 * One customer's signals at the cut a request asks for (the 360's: as of, as known at, both, or none and `now`),
 * filtered by status and type. `summary` counts the signals of the type filter, whatever the status filter.
 * Left: `conflict` (asKnownAt and asOfPosition both given), `not_found` (no event of the customer in the cut).
 */
export async function customerSignalsAt(
  store: EventStore,
  customerId: string,
  q: SignalsRequest,
  now: string,
): Promise<E.Either<'conflict' | 'not_found', SignalsAnswer>> {
  if (q.asKnownAt !== undefined && q.asOfPosition !== undefined) return E.left('conflict');
  const known = q.asKnownAt ?? (q.asOfPosition === undefined ? undefined : { position: q.asOfPosition });
  const cut = await resolveCut(store, {
    ...(q.asOf === undefined ? {} : { asOf: q.asOf }),
    ...(known === undefined ? {} : { asKnownAt: known }),
  });
  const read = await signalHistory(store, customerId, inCut(cut));
  if (read.kept === 0) return E.left('not_found');
  const type = q.type;
  const history =
    type === undefined
      ? read.history
      : // every event that is not a signal (what closes one) and the signals of that type
        read.history.filter((p) => !SIGNAL_TYPE_SET.has(p.event.type) || p.event.type === type);
  const asOf = q.asOf ?? now;
  const all = customerSignals(history, asOf);
  return E.right({
    customerId,
    asOf,
    asKnownAt: cut.position ?? null,
    signals: q.status === undefined ? all.signals : all.signals.filter((s) => s.status === q.status),
    summary: all.summary,
  });
}
