import { SIGNAL_TYPES, type LedgerEvent, type SignalType } from '@crm-ledger/events';
import { minutesBetween, normalizeTs } from '../time.js';
import { withoutVoided, type Positioned } from '../void.js';

const SIGNAL_TYPE_SET: ReadonlySet<string> = new Set(SIGNAL_TYPES);

/** Where a signal stands: open until the team acted on it (or dismissed it). */
export interface SignalStatus {
  readonly signalId: string;
  readonly customerId: string;
  readonly type: SignalType;
  readonly raisedAt: string;
  readonly status: 'open' | 'acted' | 'dismissed';
  readonly closedAt: string | null;
  /** The event type that closed it. */
  readonly closedBy: 'OutreachMade' | 'TicketOpened' | 'SignalAcknowledged' | null;
  /** The event id of the event that closed it. */
  readonly closedByEventId: string | null;
  /** Whole minutes from the signal to the action (0 when the action is dated before the signal). */
  readonly minutesToAction: number | null;
}

/** What closes a signal: the event that acted on it (or dismissed it), when, and how. */
export interface SignalClosing {
  /** The signal it names (lower case, as named by the event). */
  readonly signalId: string;
  readonly at: string;
  readonly by: NonNullable<SignalStatus['closedBy']>;
  readonly eventId: string;
  readonly acted: boolean;
}

/**
 * The closing an event carries, if any: a `SignalAcknowledged` (acted or dismissed, by its `outcome`), or an
 * `OutreachMade` / `TicketOpened` whose envelope `causationId` names the signal (acted). The one rule of what
 * closes a signal, shared by {@link signalStatuses} and the success view's `success_signals` table.
 */
export function closingOf(event: LedgerEvent): SignalClosing | undefined {
  const at = normalizeTs(event.occurredAt);
  if (event.type === 'SignalAcknowledged')
    return {
      signalId: event.data.signalId.toLowerCase(),
      at,
      by: 'SignalAcknowledged',
      eventId: event.eventId,
      acted: event.data.outcome === 'acted',
    };
  if ((event.type === 'OutreachMade' || event.type === 'TicketOpened') && event.causationId !== undefined)
    return {
      signalId: event.causationId.toLowerCase(),
      at,
      by: event.type,
      eventId: event.eventId,
      acted: true,
    };
  return undefined;
}

/** True when `next` closes the signal instead of `seen`: the earliest closing wins (the first seen on a tie). */
export const closesEarlier = (seen: SignalClosing | undefined, next: SignalClosing): boolean =>
  seen === undefined || next.at < seen.at;

/** True for an event that is a signal (one of the eight signal types; not an acknowledgement). */
export const isSignalEvent = (event: LedgerEvent): boolean => SIGNAL_TYPE_SET.has(event.type);

/** Where a signal (the event that raised it) stands given the closing naming it (undefined: none). */
export function statusOf(
  signal: {
    readonly eventId: string;
    readonly customerId: string;
    readonly type: string;
    readonly occurredAt: string;
  },
  c: SignalClosing | undefined,
): SignalStatus {
  const raisedAt = normalizeTs(signal.occurredAt);
  return {
    signalId: signal.eventId,
    customerId: signal.customerId,
    type: signal.type as SignalType,
    raisedAt,
    status: c === undefined ? 'open' : c.acted ? 'acted' : 'dismissed',
    closedAt: c?.at ?? null,
    closedBy: c?.by ?? null,
    closedByEventId: c?.eventId ?? null,
    minutesToAction: c === undefined ? null : Math.max(0, minutesBetween(raisedAt, c.at)),
  };
}

/**
 * The signals of one customer's history and where each stands as of `asOf` (business time; default: all): a
 * signal is closed by the earliest of an `OutreachMade` or `TicketOpened` whose `causationId` is the signal's id,
 * or a `SignalAcknowledged` naming it (`outcome`: acted or dismissed) ({@link closingOf}). Voided events count
 * for nothing. Pure: the success view's `success_signals` table folds the same rules event by event.
 */
export function signalStatuses(history: readonly Positioned[], asOf?: string): SignalStatus[] {
  const until = asOf === undefined ? Number.POSITIVE_INFINITY : Date.parse(asOf);
  const events = withoutVoided(history).filter((p) => Date.parse(p.event.occurredAt) <= until);
  const closing = new Map<string, SignalClosing>();
  for (const { event } of events) {
    const c = closingOf(event);
    if (c !== undefined && closesEarlier(closing.get(c.signalId), c)) closing.set(c.signalId, c);
  }
  const out: SignalStatus[] = [];
  for (const { event } of events)
    if (isSignalEvent(event)) out.push(statusOf(event, closing.get(event.eventId)));
  return out.sort((a, b) => (a.raisedAt < b.raisedAt ? -1 : a.raisedAt > b.raisedAt ? 1 : 0));
}

/** How fast and how often the team acted: what the success view reports (issue #16). */
export interface SignalSummary {
  readonly raised: number;
  readonly open: number;
  readonly acted: number;
  readonly dismissed: number;
  /** acted / raised, percent with one decimal; null when none was raised. */
  readonly actedSharePct: number | null;
  /** Median minutes from signal to action over the acted ones; null when none. */
  readonly medianMinutesToAction: number | null;
}

export function signalSummary(statuses: readonly SignalStatus[]): SignalSummary {
  const acted = statuses.filter((s) => s.status === 'acted');
  const minutes = acted.map((s) => s.minutesToAction ?? 0).sort((a, b) => a - b);
  const mid = Math.floor(minutes.length / 2);
  const median =
    minutes.length === 0
      ? null
      : minutes.length % 2 === 1
        ? minutes[mid]!
        : (minutes[mid - 1]! + minutes[mid]!) / 2;
  return {
    raised: statuses.length,
    open: statuses.filter((s) => s.status === 'open').length,
    acted: acted.length,
    dismissed: statuses.filter((s) => s.status === 'dismissed').length,
    actedSharePct: statuses.length === 0 ? null : Math.round((acted.length / statuses.length) * 1000) / 10,
    medianMinutesToAction: median,
  };
}
