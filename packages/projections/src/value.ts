import type { ProjectionSpec, Row, RowChange } from '@crm-ledger/core';
import type { EventOf, Money } from '@crm-ledger/events';
import {
  anomaliesTable,
  col,
  flushAnomalies,
  ignore,
  newPending,
  noteAnomaly,
  stateTable,
  upsert,
  type CustomerProjection,
  type Handlers,
  type Pending,
  type StateBase,
} from './projection.js';
import {
  erased,
  newProfile,
  profileColumns,
  profileUpdated,
  registered,
  evolveWith,
  type Profile,
} from './profile.js';
import { dayOf, monthOf, normalizeTs } from './time.js';

interface Subscription {
  plan: string;
  mrr: number;
  status: 'active' | 'cancelled';
  renewalDate: string;
  startedAt: string;
}

interface Month {
  orders: number;
  gross: number;
  refunds: number;
  /** MRR at the end of the month, when a subscription event happened in it. */
  mrrEnd: number | null;
}

/** Persistent state of the value view for one customer. */
export interface ValueData extends StateBase {
  profile: Profile;
  /** The customer's currency: the first one seen. Amounts in another currency are anomalies (not summed). */
  currency: string | null;
  orders: number;
  gross: number;
  refunds: number;
  /** Revenue per UTC purchase day (the CLV inputs: frequency = days - 1, repeat revenue). */
  dayRevenue: Record<string, number>;
  firstPurchaseAt: string | null;
  lastPurchaseAt: string | null;
  subs: Record<string, Subscription>;
  expansionMrr: number;
  contractionMrr: number;
  churnedMrr: number;
  months: Record<string, Month>;
}
export interface ValueState {
  data: ValueData;
  pending: Pending;
}

export const valueSpec: ProjectionSpec = {
  name: 'value',
  version: 1,
  tables: [
    {
      name: 'value_customers',
      description: 'Per customer: historical revenue, orders, purchase days, subscriptions (MRR/ARR).',
      columns: [
        col('customer_id', 'text', 'The customer'),
        col('segment', 'text', 'B2B or B2C', true),
        col('acquisition_channel', 'text', 'How the customer was acquired', true),
        col('cohort_month', 'text', 'YYYY-MM of registration (or of the first event)', true),
        col('first_seen_at', 'text', 'Earliest event of the customer (tenure = asOf - this)', true),
        col('last_event_at', 'text', 'Latest event of the customer', true),
        col('erased_at', 'text', 'When the customer asked to be forgotten', true),
        col('currency', 'text', 'ISO currency of every amount in this row', true),
        col('orders', 'integer', 'Purchases'),
        col('gross_revenue_minor', 'integer', 'Sum of purchases (minor units)'),
        col('refunds_minor', 'integer', 'Sum of refunds (minor units)'),
        col('net_revenue_minor', 'integer', 'gross - refunds'),
        col('first_purchase_at', 'text', 'First purchase', true),
        col('last_purchase_at', 'text', 'Latest purchase', true),
        col('purchase_days', 'integer', 'Distinct UTC days with a purchase (CLV frequency = this - 1)'),
        col('repeat_revenue_minor', 'integer', 'Revenue of the purchase days after the first one'),
        col('mrr_minor', 'integer', 'Monthly recurring revenue of the active subscriptions'),
        col('arr_minor', 'integer', '12 x MRR'),
        col('active_subscriptions', 'integer', 'Subscriptions not cancelled'),
        col('expansion_mrr_minor', 'integer', 'MRR added by expansions (and upward renewals)'),
        col('contraction_mrr_minor', 'integer', 'MRR removed by contractions (and downward renewals)'),
        col('churned_mrr_minor', 'integer', 'MRR lost by cancellations'),
        col('anomalies', 'integer', 'Events this view skipped (see value_anomalies)'),
      ],
      primaryKey: ['customer_id'],
      indexes: [
        { name: 'value_customers_cohort', columns: ['cohort_month'] },
        { name: 'value_customers_segment', columns: ['segment'] },
      ],
    },
    {
      name: 'value_months',
      description: 'Per customer and month (YYYY-MM of occurredAt): revenue, refunds, MRR at month end.',
      columns: [
        col('customer_id', 'text', 'The customer'),
        col('month', 'text', 'YYYY-MM'),
        col('orders', 'integer', 'Purchases in the month'),
        col('gross_minor', 'integer', 'Purchases in the month (minor units)'),
        col('refunds_minor', 'integer', 'Refunds in the month'),
        col(
          'mrr_end_minor',
          'integer',
          'MRR after the last subscription event of the month; NULL = unchanged (carry the previous value forward)',
          true,
        ),
      ],
      primaryKey: ['customer_id', 'month'],
      indexes: [{ name: 'value_months_month', columns: ['month'] }],
    },
    anomaliesTable('value'),
    stateTable('value'),
  ],
};

const mrrOf = (d: ValueData): number => {
  let m = 0;
  for (const s of Object.values(d.subs)) if (s.status === 'active') m += s.mrr;
  return m;
};

function month(s: ValueState, at: string): Month {
  const key = monthOf(at);
  s.pending.dirty.add(key);
  return (s.data.months[key] ??= { orders: 0, gross: 0, refunds: 0, mrrEnd: null });
}

/** Accepts money in the customer's currency; a different currency is counted as an anomaly. */
function sameCurrency(
  s: ValueState,
  money: Money,
  e: EventOf<'PurchaseMade'> | EventOf<'RefundIssued'> | EventOf<'SubscriptionStarted'>,
  position: number,
): boolean {
  s.data.currency ??= money.currency;
  if (s.data.currency === money.currency) return true;
  noteAnomaly(
    s.data,
    s.pending,
    e,
    position,
    `amount in ${money.currency}, customer currency is ${s.data.currency}`,
  );
  return false;
}

function changeMrr(
  s: ValueState,
  e: EventOf<'SubscriptionExpanded'> | EventOf<'SubscriptionContracted'> | EventOf<'SubscriptionRenewed'>,
  position: number,
): void {
  const sub = s.data.subs[e.data.subscriptionId];
  if (sub === undefined) {
    noteAnomaly(s.data, s.pending, e, position, `${e.type} for unknown subscription`);
    return;
  }
  const at = normalizeTs(e.occurredAt);
  const before = mrrOf(s.data);
  if (e.type === 'SubscriptionRenewed') {
    sub.renewalDate = e.data.renewalDate;
    if (sub.status === 'cancelled') {
      noteAnomaly(s.data, s.pending, e, position, 'renewal of a cancelled subscription');
      return;
    }
  }
  if (e.data.mrr !== undefined) {
    if (e.data.mrr.currency !== s.data.currency) {
      noteAnomaly(s.data, s.pending, e, position, 'MRR in another currency');
      return;
    }
    sub.mrr = e.data.mrr.amountMinor;
  }
  if (e.type === 'SubscriptionExpanded' || e.type === 'SubscriptionContracted')
    sub.plan = e.data.plan ?? sub.plan;
  const after = mrrOf(s.data);
  if (after > before) s.data.expansionMrr += after - before;
  else s.data.contractionMrr += before - after;
  month(s, at).mrrEnd = after;
}

const handlers: Handlers<ValueState> = {
  CustomerRegistered: (s, e) => registered(s.data.profile, e),
  CustomerProfileUpdated: (s, e) => profileUpdated(s.data.profile, e),
  CustomerErased: (s, e) => erased(s.data.profile, e),
  PurchaseMade(s, e, position) {
    if (!sameCurrency(s, e.data.amount, e, position)) return;
    const d = s.data;
    const at = normalizeTs(e.occurredAt);
    const amount = e.data.amount.amountMinor;
    d.orders++;
    d.gross += amount;
    const day = dayOf(at);
    d.dayRevenue[day] = (d.dayRevenue[day] ?? 0) + amount;
    if (d.firstPurchaseAt === null || at < d.firstPurchaseAt) d.firstPurchaseAt = at;
    if (d.lastPurchaseAt === null || at > d.lastPurchaseAt) d.lastPurchaseAt = at;
    const m = month(s, at);
    m.orders++;
    m.gross += amount;
  },
  RefundIssued(s, e, position) {
    if (!sameCurrency(s, e.data.amount, e, position)) return;
    s.data.refunds += e.data.amount.amountMinor;
    month(s, normalizeTs(e.occurredAt)).refunds += e.data.amount.amountMinor;
  },
  SubscriptionStarted(s, e, position) {
    if (!sameCurrency(s, e.data.mrr, e, position)) return;
    if (s.data.subs[e.data.subscriptionId] !== undefined) {
      noteAnomaly(s.data, s.pending, e, position, 'subscription started twice');
      return;
    }
    const at = normalizeTs(e.occurredAt);
    const before = mrrOf(s.data);
    s.data.subs[e.data.subscriptionId] = {
      plan: e.data.plan,
      mrr: e.data.mrr.amountMinor,
      status: 'active',
      renewalDate: e.data.renewalDate,
      startedAt: at,
    };
    // New business is not expansion: only record the month-end MRR.
    month(s, at).mrrEnd = before + e.data.mrr.amountMinor;
  },
  SubscriptionRenewed: changeMrr,
  SubscriptionExpanded: changeMrr,
  SubscriptionContracted: changeMrr,
  SubscriptionCancelled(s, e, position) {
    const sub = s.data.subs[e.data.subscriptionId];
    if (sub === undefined || sub.status === 'cancelled') {
      noteAnomaly(s.data, s.pending, e, position, 'cancellation of an unknown or cancelled subscription');
      return;
    }
    sub.status = 'cancelled';
    s.data.churnedMrr += sub.mrr;
    month(s, normalizeTs(e.occurredAt)).mrrEnd = mrrOf(s.data);
  },
  TicketOpened: ignore,
  TicketReplied: ignore,
  TicketEscalated: ignore,
  TicketResolved: ignore,
  TicketReopened: ignore,
  SuccessCriterionDefined: ignore,
  OutcomeAchieved: ignore,
  OnboardingMilestoneReached: ignore,
  FeatureAdopted: ignore,
  UsageRecorded: ignore,
  TrainingCompleted: ignore,
  OutreachMade: ignore,
  TouchpointInteracted: ignore,
  SurveyAnswered: ignore,
  FeedbackGiven: ignore,
};

function customerRow(d: ValueData): Row {
  const days = Object.keys(d.dayRevenue);
  let firstDay: string | null = null;
  for (const day of days) if (firstDay === null || day < firstDay) firstDay = day;
  const mrr = mrrOf(d);
  let active = 0;
  for (const s of Object.values(d.subs)) if (s.status === 'active') active++;
  return {
    customer_id: d.customerId,
    ...profileColumns(d.profile),
    first_seen_at: d.profile.firstSeenAt,
    last_event_at: d.profile.lastEventAt,
    erased_at: d.profile.erasedAt,
    currency: d.currency,
    orders: d.orders,
    gross_revenue_minor: d.gross,
    refunds_minor: d.refunds,
    net_revenue_minor: d.gross - d.refunds,
    first_purchase_at: d.firstPurchaseAt,
    last_purchase_at: d.lastPurchaseAt,
    purchase_days: days.length,
    repeat_revenue_minor: firstDay === null ? 0 : d.gross - (d.dayRevenue[firstDay] ?? 0),
    mrr_minor: mrr,
    arr_minor: mrr * 12,
    active_subscriptions: active,
    expansion_mrr_minor: d.expansionMrr,
    contraction_mrr_minor: d.contractionMrr,
    churned_mrr_minor: d.churnedMrr,
    anomalies: d.anomalyCount,
  };
}

const monthRow = (customerId: string, key: string, m: Month): Row => ({
  customer_id: customerId,
  month: key,
  orders: m.orders,
  gross_minor: m.gross,
  refunds_minor: m.refunds,
  mrr_end_minor: m.mrrEnd,
});

/**
 * The value view: historical lifetime value. Revenue, refunds and orders; the CLV inputs (first and last
 * purchase, distinct purchase days, repeat revenue); subscriptions with MRR/ARR, expansion, contraction and
 * churned MRR; per month revenue and month-end MRR for cohort revenue retention.
 */
export const valueProjection: CustomerProjection<ValueState> = {
  name: 'value',
  spec: valueSpec,
  init: (customerId) => ({
    data: {
      customerId,
      anomalyCount: 0,
      profile: newProfile(),
      currency: null,
      orders: 0,
      gross: 0,
      refunds: 0,
      dayRevenue: {},
      firstPurchaseAt: null,
      lastPurchaseAt: null,
      subs: {},
      expansionMrr: 0,
      contractionMrr: 0,
      churnedMrr: 0,
      months: {},
    },
    pending: newPending(),
  }),
  evolve: evolveWith(handlers),
  flush(state) {
    const d = state.data;
    const out: RowChange[] = [];
    if (!state.pending.summary && state.pending.dirty.size === 0 && state.pending.anomalies.length === 0)
      return out;
    for (const key of state.pending.dirty) {
      const m = d.months[key];
      if (m !== undefined) out.push(upsert('value_months', monthRow(d.customerId, key, m)));
    }
    out.push(upsert('value_customers', customerRow(d)));
    out.push(...flushAnomalies('value', d.customerId, state.pending));
    out.push(upsert('value_state', { customer_id: d.customerId, state: JSON.stringify(d) }));
    state.pending.dirty.clear();
    state.pending.summary = false;
    return out;
  },
  rows: (state) => ({
    value_customers: [customerRow(state.data)],
    value_months: Object.entries(state.data.months)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, m]) => monthRow(state.data.customerId, k, m)),
  }),
  decode: (_customerId, text) => ({ data: JSON.parse(text) as ValueData, pending: newPending() }),
};
