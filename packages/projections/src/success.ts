import type { ProjectionSpec, Row } from '@crm-ledger/core';
import { definitionOf, emptyRecord } from '@crm-ledger/events';
import { ONBOARDING_MILESTONES, type LedgerEvent } from '@crm-ledger/events';
import { match } from 'ts-pattern';
import { col, ignore, noteAnomaly, type Handlers } from './projection.js';
import { erased, profileColumns, profileUpdated, registered } from './profile.js';
import { profileCols, viewFrame, viewSpec, type ViewData, type ViewState } from './frame.js';
import { normalizeTs } from './time.js';
import { closesEarlier, closingOf, statusOf, type SignalClosing } from './signals/status.js';

/** A signal of the customer's stream (issue #16), as the success view keeps it. */
interface RaisedSignal {
  type: string;
  occurredAt: string;
  position: number;
  /** Its data without the fields the catalogue marks personal (signals carry ids, numbers, enumerations). */
  data: Record<string, unknown>;
}

interface Criterion {
  description: string;
  targetDate: string;
  definedAt: string;
  achievedAt: string | null;
}

/** Persistent state of the success view for one account. */
export interface SuccessData extends ViewData {
  milestones: Record<string, string>;
  features: Record<string, string>;
  trainings: number;
  usagePeriods: number;
  /** The latest two usage periods (by periodEnd): [latest, previous]. */
  usage: { end: string; sessions: number; activeUsers: number }[];
  criteria: Record<string, Criterion>;
  /** Subscriptions in start order (the first active one's currency is the currency of `mrr_minor`). */
  subs: Record<
    string,
    { mrr: number; currency: string; status: 'active' | 'cancelled'; renewalDate: string }
  >;
  expansions: number;
  contractions: number;
  cancellations: number;
  openTickets: Record<string, true>;
  reopens: number;
  escalations: number;
  /** Sentiment signals mapped to 0..100 (touchpoint and feedback sentiment, NPS, CSAT, CES). */
  sentimentSum: number;
  sentimentN: number;
  lastInteractionAt: string | null;
  lastOutreachAt: string | null;
  outreaches: number;
  /** The signals raised for the customer, by event id. */
  signals: Record<string, RaisedSignal>;
  /** The earliest closing (outreach, ticket or acknowledgement) naming each signal id, as `signalStatuses` picks it. */
  signalClosings: Record<string, SignalClosing>;
}
export type SuccessState = ViewState<SuccessData>;

// 2: the success_held table (issue #14), mrr_currency
// 3: times as `timestamp` and flags as `boolean` column types (PostgreSQL: timestamptz, boolean; issue #19)
// 4: the success_signals table (issue #16)
export const successSpec: ProjectionSpec = viewSpec('success', 4, [
  {
    name: 'success_accounts',
    description:
      'Per account: onboarding, adoption, success criteria, subscription, and the stored health components (recency and the weighted score are computed at query time for an asOf).',
    columns: [
      col('customer_id', 'text', 'The customer'),
      ...profileCols(),
      col(
        'onboarding_milestones',
        'integer',
        `Distinct onboarding milestones reached (of ${ONBOARDING_MILESTONES.length})`,
      ),
      col('onboarding_progress_pct', 'integer', 'Milestones reached / all milestones, in percent'),
      col('onboarding_completed_at', 'timestamp', 'When onboarding_complete was reached', true),
      col('features_adopted', 'integer', 'Adoption breadth: distinct features adopted'),
      col('trainings', 'integer', 'Trainings completed'),
      col('usage_periods', 'integer', 'Usage reports received'),
      col('usage_last_sessions', 'integer', 'Sessions in the latest usage period', true),
      col('usage_last_active_users', 'integer', 'Active users in the latest usage period', true),
      col('usage_prev_sessions', 'integer', 'Sessions in the period before', true),
      col('usage_trend_pct', 'real', 'Adoption depth trend: latest vs previous sessions, in percent', true),
      col('criteria_defined', 'integer', 'Success criteria defined'),
      col('criteria_achieved', 'integer', 'Success criteria achieved'),
      col(
        'next_criterion_due',
        'text',
        'Earliest target date of an unachieved criterion (overdue if < asOf)',
        true,
      ),
      col('subscription_status', 'text', 'none, active or cancelled (all subscriptions cancelled)'),
      col(
        'mrr_minor',
        'integer',
        'MRR of the active subscriptions in mrr_currency (other currencies: value_currencies)',
      ),
      col(
        'mrr_currency',
        'text',
        'ISO 4217 currency of mrr_minor: that of the first-started active subscription',
        true,
      ),
      col('next_renewal_date', 'text', 'Earliest renewal date of an active subscription', true),
      col('expansions', 'integer', 'Subscription expansions'),
      col('contractions', 'integer', 'Subscription contractions'),
      col('cancellations', 'integer', 'Subscription cancellations'),
      col('open_tickets', 'integer', 'Support tickets open now'),
      col('reopens', 'integer', 'Ticket reopens'),
      col('escalations', 'integer', 'Ticket escalations'),
      col('sentiment_signals', 'integer', 'Sentiment signals seen (touchpoints, feedback, surveys)'),
      col(
        'last_interaction_at',
        'timestamp',
        'Latest interaction initiated by or involving the customer',
        true,
      ),
      col('last_outreach_at', 'timestamp', 'Latest proactive outreach by the company', true),
      col('outreaches', 'integer', 'Proactive outreaches'),
      col(
        'adoption_score',
        'integer',
        'Health component 0-100: onboarding 40%, breadth 30%, usage trend 30%',
      ),
      col('outcomes_score', 'integer', 'Health component 0-100: criteria achieved / defined (50 if none)'),
      col('sentiment_score', 'integer', 'Health component 0-100: mean of the sentiment signals (50 if none)'),
      col(
        'friction_score',
        'integer',
        'Health component 0-100: 100 - 20/open ticket - 15/reopen - 10/escalation',
      ),
      col('anomalies', 'integer', 'Events this view skipped (see success_anomalies)'),
    ],
    primaryKey: ['customer_id'],
    indexes: [
      { name: 'success_accounts_segment', columns: ['segment'] },
      { name: 'success_accounts_last_interaction', columns: ['last_interaction_at'] },
      { name: 'success_accounts_renewal', columns: ['next_renewal_date'] },
    ],
  },
  {
    name: 'success_criteria',
    description: 'The outcomes each customer wants, with target dates and when they were achieved.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('criterion_id', 'text', 'The criterion id'),
      col('description', 'text', 'What the customer wants to achieve'),
      col('target_date', 'text', 'YYYY-MM-DD'),
      col('defined_at', 'timestamp', 'When it was defined'),
      col(
        'achieved_at',
        'timestamp',
        'When it was achieved (NULL: not yet; overdue if target_date < asOf)',
        true,
      ),
    ],
    primaryKey: ['customer_id', 'criterion_id'],
  },
  {
    name: 'success_signals',
    description:
      'One row per signal (issue #16, docs/signals.md) and where it stands: open until an OutreachMade or TicketOpened whose causationId is the signal, or a SignalAcknowledged, closes it (signalStatuses). No personal data.',
    columns: [
      col('signal_id', 'text', "The signal's event id (a UUID v5 of its rule, customer and trigger)"),
      col('customer_id', 'text', 'The customer'),
      col('type', 'text', 'The signal type, e.g. CustomerWentSilent'),
      col('occurred_at', 'timestamp', 'When the rule fired (business time)'),
      col('position', 'integer', 'Global position of the signal event'),
      col('status', 'text', 'open, acted or dismissed'),
      col('closed_at', 'timestamp', 'When the earliest action naming it occurred (NULL: open)', true),
      col(
        'closed_by',
        'text',
        'The event type that closed it: OutreachMade, TicketOpened, SignalAcknowledged',
        true,
      ),
      col('closed_by_event_id', 'text', 'The event id of the event that closed it', true),
      col(
        'minutes_to_action',
        'integer',
        'Whole minutes from the signal to the action (0 if dated before)',
        true,
      ),
      col('data', 'text', "The signal's data as JSON (ids, numbers, enumerations; see docs/signals.md)"),
    ],
    primaryKey: ['signal_id'],
    indexes: [
      { name: 'success_signals_status', columns: ['status', 'occurred_at'] },
      { name: 'success_signals_type', columns: ['type', 'occurred_at'] },
      { name: 'success_signals_occurred', columns: ['occurred_at'] },
      { name: 'success_signals_customer', columns: ['customer_id'] },
    ],
  },
]);

const criterionKey = (id: string): string => `c:${id}`;
const signalKey = (id: string): string => `s:${id}`;

/** A signal event: kept with its data (personal fields left out) and its row marked for writing. */
function raise(s: SuccessState, e: LedgerEvent, position: number): void {
  const pii = new Set(definitionOf(e.type)?.pii ?? []);
  const data = emptyRecord<unknown>();
  if (e.data !== null && typeof e.data === 'object')
    for (const [k, v] of Object.entries(e.data)) if (!pii.has(k)) data[k] = v;
  s.data.signals[e.eventId] = { type: e.type, occurredAt: normalizeTs(e.occurredAt), position, data };
  s.pending.dirty.add(signalKey(e.eventId));
}

/** An event that may close a signal (`closingOf`): the earliest closing naming a signal id is kept. */
function closeSignal(s: SuccessState, e: LedgerEvent): void {
  const c = closingOf(e);
  if (c === undefined || !closesEarlier(s.data.signalClosings[c.signalId], c)) return;
  s.data.signalClosings[c.signalId] = c;
  s.pending.dirty.add(signalKey(c.signalId));
}

/** Maps a signal to 0..100. Sentiment -1..1; NPS 0-10; CSAT 1-5; CES 1-7 (7 = very easy). */
function survey(kind: 'NPS' | 'CSAT' | 'CES', score: number): number {
  return match(kind)
    .with('NPS', () => score * 10)
    .with('CSAT', () => ((score - 1) / 4) * 100)
    .with('CES', () => ((score - 1) / 6) * 100)
    .exhaustive();
}

const clamp = (x: number): number => Math.max(0, Math.min(100, x));

function signal(s: SuccessState, value: number): void {
  s.data.sentimentSum += clamp(value);
  s.data.sentimentN++;
}

function interaction(s: SuccessState, e: LedgerEvent): void {
  const at = normalizeTs(e.occurredAt);
  if (s.data.lastInteractionAt === null || at > s.data.lastInteractionAt) s.data.lastInteractionAt = at;
}

function subChange(
  s: SuccessState,
  e: Extract<
    LedgerEvent,
    { type: 'SubscriptionRenewed' | 'SubscriptionExpanded' | 'SubscriptionContracted' }
  >,
  position: number,
): void {
  const sub = s.data.subs[e.data.subscriptionId];
  if (sub === undefined) {
    noteAnomaly(s.data, s.pending, e, position, `${e.type} for unknown subscription`);
    return;
  }
  if (e.data.mrr !== undefined) {
    if (e.data.mrr.currency !== sub.currency) {
      noteAnomaly(
        s.data,
        s.pending,
        e,
        position,
        `MRR in ${e.data.mrr.currency}, the subscription is in ${sub.currency}`,
      );
      return;
    }
    sub.mrr = e.data.mrr.amountMinor;
  }
  if (e.type === 'SubscriptionRenewed') sub.renewalDate = e.data.renewalDate;
  if (e.type === 'SubscriptionExpanded') s.data.expansions++;
  if (e.type === 'SubscriptionContracted') s.data.contractions++;
}

const handlers: Handlers<SuccessState> = {
  CustomerRegistered: (s, e) => registered(s.data.profile, e),
  CustomerProfileUpdated: (s, e) => profileUpdated(s.data.profile, e),
  CustomerErased: (s, e) => erased(s.data.profile, e),
  PurchaseMade: (s, e) => interaction(s, e),
  RefundIssued: ignore,
  SubscriptionStarted(s, e, position) {
    interaction(s, e);
    if (s.data.subs[e.data.subscriptionId] !== undefined) {
      noteAnomaly(s.data, s.pending, e, position, 'subscription started twice');
      return;
    }
    s.data.subs[e.data.subscriptionId] = {
      mrr: e.data.mrr.amountMinor,
      currency: e.data.mrr.currency,
      status: 'active',
      renewalDate: e.data.renewalDate,
    };
  },
  SubscriptionRenewed: subChange,
  SubscriptionExpanded: subChange,
  SubscriptionContracted: subChange,
  SubscriptionCancelled(s, e, position) {
    const sub = s.data.subs[e.data.subscriptionId];
    if (sub === undefined || sub.status === 'cancelled') {
      noteAnomaly(s.data, s.pending, e, position, 'cancellation of an unknown or cancelled subscription');
      return;
    }
    sub.status = 'cancelled';
    s.data.cancellations++;
  },
  TicketOpened(s, e) {
    interaction(s, e);
    s.data.openTickets[e.data.ticketId] = true;
    closeSignal(s, e);
  },
  TicketReplied: (s, e) => {
    if (e.data.by === 'customer') interaction(s, e);
  },
  TicketEscalated: (s) => {
    s.data.escalations++;
  },
  TicketResolved: (s, e) => {
    delete s.data.openTickets[e.data.ticketId];
  },
  TicketReopened(s, e) {
    interaction(s, e);
    s.data.reopens++;
    s.data.openTickets[e.data.ticketId] = true;
  },
  SuccessCriterionDefined(s, e, position) {
    if (s.data.criteria[e.data.criterionId] !== undefined) {
      noteAnomaly(s.data, s.pending, e, position, 'criterion defined twice');
      return;
    }
    s.data.criteria[e.data.criterionId] = {
      description: e.data.description,
      targetDate: e.data.targetDate,
      definedAt: normalizeTs(e.occurredAt),
      achievedAt: null,
    };
    s.pending.dirty.add(criterionKey(e.data.criterionId));
  },
  OutcomeAchieved(s, e, position) {
    interaction(s, e);
    const c = s.data.criteria[e.data.criterionId];
    if (c === undefined) {
      noteAnomaly(s.data, s.pending, e, position, 'outcome for unknown criterion');
      return;
    }
    c.achievedAt ??= normalizeTs(e.occurredAt);
    s.pending.dirty.add(criterionKey(e.data.criterionId));
  },
  OnboardingMilestoneReached(s, e) {
    interaction(s, e);
    s.data.milestones[e.data.milestone] ??= normalizeTs(e.occurredAt);
  },
  FeatureAdopted(s, e) {
    interaction(s, e);
    s.data.features[e.data.feature] ??= normalizeTs(e.occurredAt);
  },
  UsageRecorded(s, e) {
    interaction(s, e);
    const d = s.data;
    d.usagePeriods++;
    const p = {
      end: normalizeTs(e.data.periodEnd),
      sessions: e.data.sessions,
      activeUsers: e.data.activeUsers,
    };
    d.usage.push(p);
    d.usage.sort((a, b) => (a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
    d.usage.length = Math.min(d.usage.length, 2);
  },
  TrainingCompleted(s, e) {
    interaction(s, e);
    s.data.trainings++;
  },
  OutreachMade(s, e) {
    const at = normalizeTs(e.occurredAt);
    s.data.outreaches++;
    if (s.data.lastOutreachAt === null || at > s.data.lastOutreachAt) s.data.lastOutreachAt = at;
    closeSignal(s, e);
  },
  TouchpointInteracted(s, e) {
    interaction(s, e);
    if (e.data.sentiment !== undefined) signal(s, (e.data.sentiment + 1) * 50);
  },
  SurveyAnswered(s, e) {
    interaction(s, e);
    signal(s, survey(e.data.kind, e.data.score));
  },
  FeedbackGiven(s, e) {
    interaction(s, e);
    if (e.data.sentiment !== undefined) signal(s, (e.data.sentiment + 1) * 50);
  },
  // Corrections are applied by re-folding the customer's stream without the voided events (see void.ts).
  EventVoided: ignore,
  ExchangeRateRecorded: ignore,
  // Signals (issue #16): one success_signals row each, closed by an outreach, a ticket or an acknowledgement.
  HealthBandChanged: raise,
  CustomerWentSilent: raise,
  RenewalApproaching: raise,
  TicketSlaBreached: raise,
  DetractorAnswered: raise,
  SuccessCriterionOverdue: raise,
  ChurnRiskRose: raise,
  ExpansionSuggested: raise,
  SignalAcknowledged: closeSignal,
};

function accountRow(d: SuccessData): Row {
  const milestones = Object.keys(d.milestones).length;
  const features = Object.keys(d.features).length;
  const criteria = Object.values(d.criteria);
  const achieved = criteria.filter((c) => c.achievedAt !== null).length;
  let nextDue: string | null = null;
  for (const c of criteria)
    if (c.achievedAt === null && (nextDue === null || c.targetDate < nextDue)) nextDue = c.targetDate;
  const subs = Object.values(d.subs);
  let mrr = 0;
  let mrrCurrency: string | null = null;
  let active = 0;
  let nextRenewal: string | null = null;
  for (const s of subs) {
    if (s.status !== 'active') continue;
    active++;
    mrrCurrency ??= s.currency;
    if (s.currency === mrrCurrency) mrr += s.mrr;
    if (nextRenewal === null || s.renewalDate < nextRenewal) nextRenewal = s.renewalDate;
  }
  const [last, prev] = d.usage;
  const trend =
    last !== undefined && prev !== undefined && prev.sessions > 0
      ? Math.round(((last.sessions - prev.sessions) / prev.sessions) * 1000) / 10
      : null;
  const progress = Math.round((milestones / ONBOARDING_MILESTONES.length) * 100);
  const adoption = clamp(
    Math.round(
      0.4 * progress + 0.3 * Math.min(100, features * 20) + 0.3 * (trend === null ? 50 : clamp(100 + trend)),
    ),
  );
  const open = Object.keys(d.openTickets).length;
  return {
    customer_id: d.customerId,
    ...profileColumns(d.profile),
    onboarding_milestones: milestones,
    onboarding_progress_pct: progress,
    onboarding_completed_at: d.milestones['onboarding_complete'] ?? null,
    features_adopted: features,
    trainings: d.trainings,
    usage_periods: d.usagePeriods,
    usage_last_sessions: last?.sessions ?? null,
    usage_last_active_users: last?.activeUsers ?? null,
    usage_prev_sessions: prev?.sessions ?? null,
    usage_trend_pct: trend,
    criteria_defined: criteria.length,
    criteria_achieved: achieved,
    next_criterion_due: nextDue,
    subscription_status: subs.length === 0 ? 'none' : active > 0 ? 'active' : 'cancelled',
    mrr_minor: mrr,
    mrr_currency: mrrCurrency,
    next_renewal_date: nextRenewal,
    expansions: d.expansions,
    contractions: d.contractions,
    cancellations: d.cancellations,
    open_tickets: open,
    reopens: d.reopens,
    escalations: d.escalations,
    sentiment_signals: d.sentimentN,
    last_interaction_at: d.lastInteractionAt,
    last_outreach_at: d.lastOutreachAt,
    outreaches: d.outreaches,
    adoption_score: adoption,
    outcomes_score: criteria.length === 0 ? 50 : Math.round((achieved / criteria.length) * 100),
    sentiment_score: d.sentimentN === 0 ? 50 : Math.round(d.sentimentSum / d.sentimentN),
    friction_score: clamp(100 - 20 * open - 15 * d.reopens - 10 * d.escalations),
    anomalies: d.anomalyCount,
  };
}

const criterionRow = (customerId: string, id: string, c: Criterion): Row => ({
  customer_id: customerId,
  criterion_id: id,
  description: c.description,
  target_date: c.targetDate,
  defined_at: c.definedAt,
  achieved_at: c.achievedAt,
});

function signalRow(d: SuccessData, id: string, raised: RaisedSignal): Row {
  const st = statusOf(
    { eventId: id, customerId: d.customerId, type: raised.type, occurredAt: raised.occurredAt },
    d.signalClosings[id],
  );
  return {
    signal_id: id,
    customer_id: d.customerId,
    type: raised.type,
    occurred_at: st.raisedAt,
    position: raised.position,
    status: st.status,
    closed_at: st.closedAt,
    closed_by: st.closedBy,
    closed_by_event_id: st.closedByEventId,
    minutes_to_action: st.minutesToAction,
    data: JSON.stringify(raised.data),
  };
}

/**
 * The success view: proactive account management. Onboarding progress, adoption breadth and depth, success
 * criteria, subscription state and renewal, support friction and sentiment signals, last interaction and
 * outreach. The time-independent health components are stored; recency, overdue criteria, silence and the
 * weighted health score depend on an `asOf` and are computed by {@link healthOf} at query time.
 */
export const successProjection = viewFrame<SuccessData>({
  name: 'success',
  spec: successSpec,
  fresh: () => ({
    milestones: emptyRecord(),
    features: emptyRecord(),
    trainings: 0,
    usagePeriods: 0,
    usage: [],
    criteria: emptyRecord(),
    subs: emptyRecord(),
    expansions: 0,
    contractions: 0,
    cancellations: 0,
    openTickets: emptyRecord(),
    reopens: 0,
    escalations: 0,
    sentimentSum: 0,
    sentimentN: 0,
    lastInteractionAt: null,
    lastOutreachAt: null,
    outreaches: 0,
    signals: emptyRecord(),
    signalClosings: emptyRecord(),
  }),
  handlers,
  summaryTable: 'success_accounts',
  summaryRow: accountRow,
  detailRow(d, key) {
    const id = key.slice(2);
    if (key.startsWith('s:')) {
      const raised = d.signals[id];
      return raised === undefined ? undefined : { table: 'success_signals', row: signalRow(d, id, raised) };
    }
    const c = d.criteria[id];
    return c === undefined
      ? undefined
      : { table: 'success_criteria', row: criterionRow(d.customerId, id, c) };
  },
  detailKeys: (d) => [
    ...Object.keys(d.criteria).sort().map(criterionKey),
    ...Object.keys(d.signals).sort().map(signalKey),
  ],
});
