import type { CellValue, Row, StoredEvent } from '@crm-ledger/core';
import { emptyRecord, recordFrom, customerStream, definitionOf } from '@crm-ledger/events';
import {
  churnRiskOf,
  DEFAULT_HEALTH_WEIGHTS,
  DEFAULT_SILENT_DAYS,
  healthOf,
  signalSummary,
  PROJECTION_NAMES,
  projections,
  type ChurnAssessment,
  type Health,
} from '@crm-ledger/projections';
import { inCut, type Cut } from '@crm-ledger/projector';
import * as E from 'fp-ts/lib/Either.js';
import type { PiiVault } from '@crm-ledger/pii';
import { bearsOnSignals, customerSignals, type CustomerSignals } from './customer-signals.js';
import { listedSignal } from './signals-list.js';
import { foldCustomerPaged, walkStream } from './paged-fold.js';
import type { QueryContext } from './query-context.js';
import { streamTail } from './stream-tail.js';

/** The customer's contact details as last registered or updated, decrypted at this edge. */
export interface Contact {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  /** True once the customer was erased: their key is destroyed, every personal field is null. */
  readonly erased: boolean;
}

/**
 * Folds the customer's registration and profile updates (in log order) into their contact details, decrypting
 * the personal fields with the customer's key. Null without a key store (the process was given none).
 */
export async function contactOf(
  vault: PiiVault | undefined,
  events: readonly StoredEvent[],
): Promise<Contact | null> {
  if (vault === undefined) return null;
  const reader = vault.reader(1);
  const contact = { name: null as string | null, email: null as string | null, phone: null as string | null };
  let erased = false;
  const ordered = [...events].sort((a, b) => a.globalPosition - b.globalPosition);
  for (const s of ordered) {
    if (s.event.type === 'CustomerErased') erased = true;
    if (s.event.type !== 'CustomerRegistered' && s.event.type !== 'CustomerProfileUpdated') continue;
    const d = await reader.decrypt(s.event);
    if (E.isLeft(d)) throw new Error(d.left.message);
    erased ||= d.right.erased;
    const data = d.right.event.data as Record<string, unknown>;
    for (const field of ['name', 'email', 'phone'] as const) {
      const v = data[field];
      if (v === null || typeof v === 'string') contact[field] = v;
    }
  }
  if (!erased) {
    const state = await reader.isErased(ordered[0]?.event.customerId ?? '');
    erased = E.isRight(state) && state.right;
  }
  return erased ? { name: null, email: null, phone: null, erased: true } : { ...contact, erased: false };
}

/** One entry of a customer's timeline: what happened, when, on which channel; personal data left out. */
export interface TimelineEntry {
  readonly position: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The timeline of events without personal data fields (the catalogue names them per type). */
export function timelineOf(events: readonly StoredEvent[], limit: number): TimelineEntry[] {
  const sorted = [...events].sort((a, b) =>
    a.event.occurredAt < b.event.occurredAt ? 1 : a.event.occurredAt > b.event.occurredAt ? -1 : 0,
  );
  return sorted.slice(0, limit).map((s) => {
    const pii = new Set(definitionOf(s.event.type)?.pii ?? []);
    const data = emptyRecord<unknown>();
    if (s.event.data !== null && typeof s.event.data === 'object')
      for (const [k, v] of Object.entries(s.event.data)) if (!pii.has(k)) data[k] = v;
    return {
      position: s.globalPosition,
      occurredAt: s.event.occurredAt,
      recordedAt: s.recordedAt,
      type: s.event.type,
      data,
    };
  });
}

export interface Customer360 {
  readonly customerId: string;
  readonly asOf: string;
  /** The ledger-time cut of a fold (a global position); null: everything the ledger knows. */
  readonly asKnownAt: number | null;
  /** `live`: read from the live tables; `folded`: computed from the stream for a past point. */
  readonly source: 'live' | 'folded';
  /** Contact details (personal data, decrypted); null without the `contact` scope or a key store. */
  readonly contact: Contact | null;
  readonly service: { readonly customer: Row | null; readonly tickets: readonly Row[] };
  /**
   * The views whose rows of this customer are stale: applying one of its events threw, the view holds the
   * customer (`<view>_held`, docs/guarantees.md "Failure isolation"). Empty when every view is up to date.
   */
  readonly stale: readonly { readonly view: string; readonly position: number; readonly eventId: string }[];
  readonly success: {
    readonly account: Row | null;
    /** Each with `overdue`: 1 when not achieved and the target date is before asOf. */
    readonly criteria: readonly Row[];
    readonly health: Health | null;
    readonly churnRisk: ChurnAssessment | null;
    readonly daysSilent: number | null;
  };
  readonly experience: {
    readonly customer: Row | null;
    readonly channels: readonly Row[];
    readonly touchpoints: readonly Row[];
    readonly surveys: readonly Row[];
    readonly months: readonly Row[];
    readonly ticketFeedback: readonly Row[];
  };
  readonly value: {
    readonly customer: Row | null;
    /** The customer's amounts in each currency they paid in (value_currencies). */
    readonly currencies: readonly Row[];
    readonly months: readonly Row[];
    readonly tenureDays: number | null;
  };
  /**
   * The customer's signals (issue #16): each open, acted or dismissed, with the event that closed it and the
   * minutes to action; and their counts. In the live 360 from the success view's `success_signals` rows (what the
   * ledger holds, like every live table: no read of the stream); in a 360 at a cut from the cut's fold, as of
   * `asOf`, as `GET /v1/customers/:customerId/signals` answers.
   */
  readonly signals: CustomerSignals;
  readonly timeline: readonly TimelineEntry[];
}

const days = (from: string, to: string): number =>
  Math.floor((Date.parse(to) - Date.parse(from)) / 86_400_000);

async function liveRows(ctx: QueryContext, table: string, customerId: string): Promise<readonly Row[]> {
  return ctx.readModel.find(table, [{ column: 'customer_id', op: 'eq', value: customerId }]);
}

/**
 * The customer 360: all four views and the timeline. Without a cut, the rows come from the live tables;
 * with one, the customer's events in the cut are folded (time travel, `customerViewsAsOf`).
 * Time-dependent values (health recency, silence, overdue criteria, tenure) are computed for `asOf`.
 * Left when the customer has no events (404).
 */
export async function customer360(
  ctx: QueryContext,
  customerId: string,
  asOf: string,
  options: {
    /** A past point (a cut: as of, as known at, or both); undefined: the live views. */
    readonly cut?: Cut;
    readonly timelineLimit: number;
    /** Decrypt and include contact details (the caller holds the `contact` scope and logs the read). */
    readonly withContact?: boolean;
  },
): Promise<E.Either<'not_found', Customer360>> {
  let tables: Record<string, readonly Row[]>;
  let events: readonly StoredEvent[];
  let contactEvents: readonly StoredEvent[] | undefined;
  let signals: CustomerSignals;
  if (options.cut !== undefined) {
    // the cut's one definition (inCut: what a rebuild as of the same cut selects); the paged fold bounds the
    // cost per turn whatever the stream's length
    const folded = await foldCustomerPaged(
      ctx.store,
      customerId,
      inCut(options.cut),
      Math.max(1, options.timelineLimit),
      bearsOnSignals,
    );
    if (folded.kept === 0) return E.left('not_found');
    signals = customerSignals(folded.picked, asOf);
    events = folded.events;
    contactEvents = folded.contactEvents;
    tables = Object.assign({}, ...Object.values(folded.views)) as Record<string, readonly Row[]>;
  } else {
    const names = [
      'service_customers',
      'service_tickets',
      'success_accounts',
      'success_criteria',
      'experience_customers',
      'experience_channels',
      'experience_touchpoints',
      'experience_surveys',
      'experience_months',
      'experience_ticket_feedback',
      'value_customers',
      'value_currencies',
      'value_months',
    ];
    const found = await Promise.all(names.map((n) => liveRows(ctx, n, customerId)));
    tables = recordFrom(names.map((n, i) => [n, found[i] ?? []] as const));
    signals = liveSignals(await liveRows(ctx, 'success_signals', customerId));
    if (options.withContact === true) {
      // contact details fold every registration and profile update: the whole stream (contact keys only), walked
      // in pages of a bounded time; the timeline is the most recent events by business time over the whole stream
      const walked = await contactAndTimeline(ctx, customerId, Math.max(1, options.timelineLimit));
      events = walked.timeline;
      contactEvents = walked.contactEvents;
    } else {
      // the timeline needs only the most recently recorded events: bounded whatever the stream's length
      events = await streamTail(ctx.store, customerStream(customerId), Math.max(1, options.timelineLimit));
    }
    if (events.length === 0 && (tables['value_customers'] ?? []).length === 0) return E.left('not_found');
  }
  const held =
    options.cut !== undefined
      ? []
      : await Promise.all(
          PROJECTION_NAMES.map(async (view) =>
            (await liveRows(ctx, `${view}_held`, customerId)).map((r) => ({
              view,
              position: Number(r['position']),
              eventId: String(r['event_id']),
            })),
          ),
        );
  const one = (t: string): Row | null => tables[t]?.[0] ?? null;
  // in primary-key order, whichever path the rows came from (SQL or a fold): the same customer, the same answer
  const many = (t: string): readonly Row[] => inKeyOrder(t, tables[t] ?? []);
  const account = one('success_accounts');
  const health = account === null ? null : healthOf(account, asOf, ctx.weights ?? DEFAULT_HEALTH_WEIGHTS);
  const valueCustomer = one('value_customers');
  const since = valueCustomer?.['first_seen_at'];
  const lastInteraction = account?.['last_interaction_at'];
  const asOfDay = asOf.slice(0, 10);
  return E.right({
    customerId,
    asOf,
    asKnownAt: options.cut?.position ?? null,
    source: options.cut === undefined ? 'live' : 'folded',
    contact: options.withContact === true ? await contactOf(ctx.vault, contactEvents ?? events) : null,
    service: { customer: one('service_customers'), tickets: many('service_tickets') },
    stale: held.flat(),
    success: {
      account,
      criteria: many('success_criteria').map((c) => ({
        ...c,
        overdue: c['achieved_at'] === null && String(c['target_date']) < asOfDay ? 1 : 0,
      })),
      health,
      churnRisk:
        account === null || health === null
          ? null
          : churnRiskOf(account, asOf, health, ctx.silentAfterDays ?? DEFAULT_SILENT_DAYS),
      daysSilent: typeof lastInteraction === 'string' ? Math.max(0, days(lastInteraction, asOf)) : null,
    },
    experience: {
      customer: one('experience_customers'),
      channels: many('experience_channels'),
      touchpoints: many('experience_touchpoints'),
      surveys: many('experience_surveys'),
      months: many('experience_months'),
      ticketFeedback: many('experience_ticket_feedback'),
    },
    value: {
      customer: valueCustomer,
      currencies: many('value_currencies'),
      months: many('value_months'),
      tenureDays: typeof since === 'string' ? Math.max(0, days(since, asOf)) : null,
    },
    signals,
    timeline: timelineOf(events, options.timelineLimit),
  });
}

/**
 * A customer's `success_signals` rows as the 360 answers signals: raised first first (position breaks ties, as
 * the fold's order does), without the row's position, and their counts.
 */
function liveSignals(rows: readonly Row[]): CustomerSignals {
  const listed = rows
    .map(listedSignal)
    .sort((a, b) =>
      a.raisedAt !== b.raisedAt ? (a.raisedAt < b.raisedAt ? -1 : 1) : a.position - b.position,
    );
  const signals = listed.map(({ position: _position, ...s }) => s);
  return { signals, summary: signalSummary(signals) };
}

const CONTACT_TYPES = new Set(['CustomerRegistered', 'CustomerProfileUpdated', 'CustomerErased']);
const byOccurredAtDesc = (a: StoredEvent, b: StoredEvent): number =>
  a.event.occurredAt < b.event.occurredAt ? 1 : a.event.occurredAt > b.event.occurredAt ? -1 : 0;

/**
 * One walk of the stream (`walkStream`, bounded time per turn of the event loop) for the live 360 with contact
 * details: the contact events (plus the first event, whose customer id `contactOf` asks the key store about), and
 * the `limit` events `timelineOf` takes from the whole stream (latest `occurredAt` first, ties in stream order:
 * a stable sort of the kept candidates and each page is the stable sort of the whole stream, cut at `limit`).
 */
async function contactAndTimeline(
  ctx: QueryContext,
  customerId: string,
  limit: number,
): Promise<{ contactEvents: StoredEvent[]; timeline: StoredEvent[] }> {
  const contactEvents: StoredEvent[] = [];
  let timeline: StoredEvent[] = [];
  let first = true;
  await walkStream(ctx.store, customerStream(customerId), (page) => {
    for (const stored of page) {
      if (first || CONTACT_TYPES.has(stored.event.type)) contactEvents.push(stored);
      first = false;
    }
    timeline = [...timeline, ...page].sort(byOccurredAtDesc).slice(0, limit);
  });
  return { contactEvents, timeline };
}

/** The primary-key columns of every view table, for a deterministic row order in answers. */
const PRIMARY_KEYS = new Map(
  PROJECTION_NAMES.flatMap((name) =>
    projections[name].spec.tables.map((t) => [t.name, t.primaryKey] as const),
  ),
);

function inKeyOrder(table: string, rows: readonly Row[]): readonly Row[] {
  const key = PRIMARY_KEYS.get(table);
  if (key === undefined || rows.length < 2) return rows;
  const cmp = (a: CellValue | undefined, b: CellValue | undefined): number =>
    a === b ? 0 : a === null || a === undefined ? -1 : b === null || b === undefined ? 1 : a < b ? -1 : 1;
  return [...rows].sort((x, y) => {
    for (const c of key) {
      const d = cmp(x[c], y[c]);
      if (d !== 0) return d;
    }
    return 0;
  });
}
