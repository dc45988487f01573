import type { EventOf, LedgerEvent } from '@crm-ledger/events';
import { isSignalAreaType } from '@crm-ledger/events';
import { dispatch, type Handlers, type Pending } from './projection.js';
import { normalizeTs } from './time.js';

/** What every view keeps about the customer itself: segment and acquisition channel to slice by, key dates. */
export interface Profile {
  segment: string | null;
  acquisitionChannel: string | null;
  registeredAt: string | null;
  erasedAt: string | null;
  /** Earliest `occurredAt` of any of the customer's events (back-filled history may come later). */
  firstSeenAt: string | null;
  /** Latest `occurredAt` of any of the customer's events. */
  lastEventAt: string | null;
}

export const newProfile = (): Profile => ({
  segment: null,
  acquisitionChannel: null,
  registeredAt: null,
  erasedAt: null,
  firstSeenAt: null,
  lastEventAt: null,
});

/** Records the event's time in the profile; returns the normalised `occurredAt`. */
export function seen(profile: Profile, occurredAt: string): string {
  const at = normalizeTs(occurredAt);
  if (profile.firstSeenAt === null || at < profile.firstSeenAt) profile.firstSeenAt = at;
  if (profile.lastEventAt === null || at > profile.lastEventAt) profile.lastEventAt = at;
  return at;
}

export function registered(profile: Profile, e: EventOf<'CustomerRegistered'>): void {
  profile.segment = e.data.segment;
  profile.acquisitionChannel = e.data.acquisitionChannel;
  profile.registeredAt ??= normalizeTs(e.occurredAt);
}

export function profileUpdated(profile: Profile, e: EventOf<'CustomerProfileUpdated'>): void {
  if (e.data.segment !== undefined) profile.segment = e.data.segment;
}

export function erased(profile: Profile, e: EventOf<'CustomerErased'>): void {
  profile.erasedAt ??= normalizeTs(e.occurredAt);
}

/** The profile columns every per-customer view row starts with. */
export function profileColumns(p: Profile): {
  segment: string | null;
  acquisition_channel: string | null;
  cohort_month: string | null;
} {
  const since = p.registeredAt ?? p.firstSeenAt;
  return {
    segment: p.segment,
    acquisition_channel: p.acquisitionChannel,
    cohort_month: since === null ? null : since.slice(0, 7),
  };
}

/**
 * The `evolve` every view shares: note when the customer was last seen, mark its summary row changed, and
 * run the event's handler. It mutates the state and returns it: a batch keeps one state per customer, and
 * rebuild == incremental is proven by the determinism specs.
 */
export function evolveWith<S extends { data: { profile: Profile }; pending: Pending }>(
  handlers: Handlers<S>,
): (state: S, event: LedgerEvent, position: number) => S {
  return (state, event, position) => {
    // Ledger-level events are no fact about the customer: a void is applied by re-folding without the voided
    // event (`foldWithoutVoided`), exchange rates live in their own stream and are read at query time.
    if (event.type === 'EventVoided' || event.type === 'ExchangeRateRecorded') return state;
    // Signals (issue #16) are derived from the other events: they change no profile and no summary row, only
    // the rows their handlers mark (the success view's success_signals).
    if (isSignalAreaType(event.type)) {
      dispatch(handlers, state, event, position);
      return state;
    }
    seen(state.data.profile, event.occurredAt);
    state.pending.summary = true;
    dispatch(handlers, state, event, position);
    return state;
  };
}
