import { SIGNAL_TYPES, type SignalType } from '@crm-ledger/events';
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

/**
 * The signals of one customer's history and where each stands as of `asOf` (business time; default: all): a
 * signal is closed by the earliest of an `OutreachMade` or `TicketOpened` whose `causationId` is the signal's id,
 * or a `SignalAcknowledged` naming it (`outcome`: acted or dismissed). Voided events count for nothing. Pure: the
 * building block of a signals view (open/acted, time from signal to action, share acted on).
 */
export function signalStatuses(history: readonly Positioned[], asOf?: string): SignalStatus[] {
  const until = asOf === undefined ? Number.POSITIVE_INFINITY : Date.parse(asOf);
  const events = withoutVoided(history).filter((p) => Date.parse(p.event.occurredAt) <= until);
  const closing = new Map<
    string,
    { at: string; by: NonNullable<SignalStatus['closedBy']>; eventId: string; acted: boolean }
  >();
  const close = (
    id: string,
    at: string,
    by: NonNullable<SignalStatus['closedBy']>,
    eventId: string,
    acted: boolean,
  ): void => {
    const seen = closing.get(id);
    if (seen === undefined || at < seen.at) closing.set(id, { at, by, eventId, acted });
  };
  for (const { event } of events) {
    const at = normalizeTs(event.occurredAt);
    if (event.type === 'SignalAcknowledged')
      close(
        event.data.signalId.toLowerCase(),
        at,
        'SignalAcknowledged',
        event.eventId,
        event.data.outcome === 'acted',
      );
    else if (
      (event.type === 'OutreachMade' || event.type === 'TicketOpened') &&
      event.causationId !== undefined
    )
      close(event.causationId.toLowerCase(), at, event.type, event.eventId, true);
  }
  const out: SignalStatus[] = [];
  for (const { event } of events) {
    if (!SIGNAL_TYPE_SET.has(event.type)) continue;
    const raisedAt = normalizeTs(event.occurredAt);
    const c = closing.get(event.eventId);
    out.push({
      signalId: event.eventId,
      customerId: event.customerId,
      type: event.type as SignalType,
      raisedAt,
      status: c === undefined ? 'open' : c.acted ? 'acted' : 'dismissed',
      closedAt: c?.at ?? null,
      closedBy: c?.by ?? null,
      closedByEventId: c?.eventId ?? null,
      minutesToAction: c === undefined ? null : Math.max(0, minutesBetween(raisedAt, c.at)),
    });
  }
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
