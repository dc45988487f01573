import type { ProjectionSpec, Row } from '@crm-ledger/core';
import { emptyRecord } from '@crm-ledger/events';
import type { EventOf } from '@crm-ledger/events';
import { col, ignore, ignoreSignals, noteAnomaly, type Handlers } from './projection.js';
import { erased, profileColumns, profileUpdated, registered } from './profile.js';
import { profileCols, viewFrame, viewSpec, type ViewData, type ViewState } from './frame.js';
import { dayOf, monthOf, normalizeTs } from './time.js';

interface Subscription {
  plan: string;
  mrr: number;
  /** The subscription's currency (of its start): a change of MRR in another currency is an anomaly. */
  currency: string;
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

/** What a customer paid in ONE currency: amounts of different currencies are never added together. */
interface Amounts {
  orders: number;
  gross: number;
  refunds: number;
  /** Revenue per UTC purchase day (the CLV inputs: frequency = days - 1, repeat revenue). */
  dayRevenue: Record<string, number>;
  firstPurchaseAt: string | null;
  lastPurchaseAt: string | null;
  expansionMrr: number;
  contractionMrr: number;
  churnedMrr: number;
}

const newAmounts = (): Amounts => ({
  orders: 0,
  gross: 0,
  refunds: 0,
  dayRevenue: emptyRecord(),
  firstPurchaseAt: null,
  lastPurchaseAt: null,
  expansionMrr: 0,
  contractionMrr: 0,
  churnedMrr: 0,
});

/** Persistent state of the value view for one customer. */
export interface ValueData extends ViewData {
  /** The customer's main currency: the first one seen (the currency of `value_customers`' amounts). */
  currency: string | null;
  /** Every currency the customer paid or subscribed in, each with its own amounts (`value_currencies`). */
  byCurrency: Record<string, Amounts>;
  subs: Record<string, Subscription>;
  /** Per `YYYY-MM|CUR`. */
  months: Record<string, Month>;
}
export type ValueState = ViewState<ValueData>;

// 2: the value_held table (issue #14), amounts per currency (value_currencies, value_months.currency)
// 3: times as `timestamp` and flags as `boolean` column types (PostgreSQL: timestamptz, boolean; issue #19)
export const valueSpec: ProjectionSpec = viewSpec('value', 3, [
  {
    name: 'value_customers',
    description:
      'Per customer: historical revenue, orders, purchase days, subscriptions (MRR/ARR), in the main currency (every currency: value_currencies).',
    columns: [
      col('customer_id', 'text', 'The customer'),
      ...profileCols(),
      col('first_seen_at', 'timestamp', 'Earliest event of the customer (tenure = asOf - this)', true),
      col('last_event_at', 'timestamp', 'Latest event of the customer', true),
      col('erased_at', 'timestamp', 'When the customer asked to be forgotten', true),
      col(
        'currency',
        'text',
        'ISO 4217 currency of every amount in this row: the first the customer paid in (the others: value_currencies)',
        true,
      ),
      col('currencies', 'text', 'Every currency the customer paid in, comma-separated (e.g. EUR,USD)', true),
      col('orders', 'integer', 'Purchases'),
      col('gross_revenue_minor', 'integer', 'Sum of purchases (minor units)'),
      col('refunds_minor', 'integer', 'Sum of refunds (minor units)'),
      col('net_revenue_minor', 'integer', 'gross - refunds'),
      col('first_purchase_at', 'timestamp', 'First purchase', true),
      col('last_purchase_at', 'timestamp', 'Latest purchase', true),
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
    name: 'value_currencies',
    description:
      'Per customer and currency: the value_customers amounts for each currency the customer paid in (never summed across currencies).',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('currency', 'text', 'ISO 4217 currency of every amount in this row'),
      col('orders', 'integer', 'Purchases'),
      col('gross_revenue_minor', 'integer', 'Sum of purchases (minor units of currency)'),
      col('refunds_minor', 'integer', 'Sum of refunds (minor units)'),
      col('net_revenue_minor', 'integer', 'gross - refunds'),
      col('first_purchase_at', 'timestamp', 'First purchase', true),
      col('last_purchase_at', 'timestamp', 'Latest purchase', true),
      col('purchase_days', 'integer', 'Distinct UTC days with a purchase'),
      col('repeat_revenue_minor', 'integer', 'Revenue of the purchase days after the first one'),
      col('mrr_minor', 'integer', 'MRR of the active subscriptions in this currency'),
      col('arr_minor', 'integer', '12 x MRR'),
      col('active_subscriptions', 'integer', 'Subscriptions in this currency not cancelled'),
      col('expansion_mrr_minor', 'integer', 'MRR added by expansions'),
      col('contraction_mrr_minor', 'integer', 'MRR removed by contractions'),
      col('churned_mrr_minor', 'integer', 'MRR lost by cancellations'),
    ],
    primaryKey: ['customer_id', 'currency'],
    indexes: [{ name: 'value_currencies_currency', columns: ['currency'] }],
  },
  {
    name: 'value_months',
    description:
      'Per customer, month (YYYY-MM of occurredAt) and currency: revenue, refunds, MRR at month end.',
    columns: [
      col('customer_id', 'text', 'The customer'),
      col('month', 'text', 'YYYY-MM'),
      col('currency', 'text', 'ISO 4217 currency of every amount in this row'),
      col('orders', 'integer', 'Purchases in the month'),
      col('gross_minor', 'integer', 'Purchases in the month (minor units)'),
      col('refunds_minor', 'integer', 'Refunds in the month'),
      col(
        'mrr_end_minor',
        'integer',
        'MRR in this currency after the last subscription event of the month; NULL = unchanged (carry the previous value forward)',
        true,
      ),
    ],
    primaryKey: ['customer_id', 'month', 'currency'],
    indexes: [{ name: 'value_months_month', columns: ['month'] }],
  },
]);

const mrrOf = (d: ValueData, currency: string): number => {
  let m = 0;
  for (const s of Object.values(d.subs)) if (s.status === 'active' && s.currency === currency) m += s.mrr;
  return m;
};

function month(s: ValueState, at: string, currency: string): Month {
  const key = `${monthOf(at)}|${currency}`;
  s.pending.dirty.add(key);
  return (s.data.months[key] ??= { orders: 0, gross: 0, refunds: 0, mrrEnd: null });
}

/** The amounts of a currency (the first currency seen becomes the customer's main currency). */
function amounts(s: ValueState, currency: string): Amounts {
  s.data.currency ??= currency;
  return (s.data.byCurrency[currency] ??= newAmounts());
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
  const before = mrrOf(s.data, sub.currency);
  if (e.type === 'SubscriptionRenewed') {
    sub.renewalDate = e.data.renewalDate;
    if (sub.status === 'cancelled') {
      noteAnomaly(s.data, s.pending, e, position, 'renewal of a cancelled subscription');
      return;
    }
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
  if (e.type === 'SubscriptionExpanded' || e.type === 'SubscriptionContracted')
    sub.plan = e.data.plan ?? sub.plan;
  const after = mrrOf(s.data, sub.currency);
  const a = amounts(s, sub.currency);
  if (after > before) a.expansionMrr += after - before;
  else a.contractionMrr += before - after;
  month(s, at, sub.currency).mrrEnd = after;
}

const handlers: Handlers<ValueState> = {
  CustomerRegistered: (s, e) => registered(s.data.profile, e),
  CustomerProfileUpdated: (s, e) => profileUpdated(s.data.profile, e),
  CustomerErased: (s, e) => erased(s.data.profile, e),
  PurchaseMade(s, e) {
    const currency = e.data.amount.currency;
    const d = amounts(s, currency);
    const at = normalizeTs(e.occurredAt);
    const amount = e.data.amount.amountMinor;
    d.orders++;
    d.gross += amount;
    const day = dayOf(at);
    d.dayRevenue[day] = (d.dayRevenue[day] ?? 0) + amount;
    if (d.firstPurchaseAt === null || at < d.firstPurchaseAt) d.firstPurchaseAt = at;
    if (d.lastPurchaseAt === null || at > d.lastPurchaseAt) d.lastPurchaseAt = at;
    const m = month(s, at, currency);
    m.orders++;
    m.gross += amount;
  },
  RefundIssued(s, e) {
    const currency = e.data.amount.currency;
    amounts(s, currency).refunds += e.data.amount.amountMinor;
    month(s, normalizeTs(e.occurredAt), currency).refunds += e.data.amount.amountMinor;
  },
  SubscriptionStarted(s, e, position) {
    if (s.data.subs[e.data.subscriptionId] !== undefined) {
      noteAnomaly(s.data, s.pending, e, position, 'subscription started twice');
      return;
    }
    const currency = e.data.mrr.currency;
    amounts(s, currency);
    const at = normalizeTs(e.occurredAt);
    const before = mrrOf(s.data, currency);
    s.data.subs[e.data.subscriptionId] = {
      plan: e.data.plan,
      mrr: e.data.mrr.amountMinor,
      currency,
      status: 'active',
      renewalDate: e.data.renewalDate,
      startedAt: at,
    };
    // New business is not expansion: only record the month-end MRR.
    month(s, at, currency).mrrEnd = before + e.data.mrr.amountMinor;
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
    amounts(s, sub.currency).churnedMrr += sub.mrr;
    month(s, normalizeTs(e.occurredAt), sub.currency).mrrEnd = mrrOf(s.data, sub.currency);
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
  // Corrections are applied by re-folding the customer's stream without the voided events (see void.ts).
  EventVoided: ignore,
  ExchangeRateRecorded: ignore,
  // the signals area (issue #16): only the success view folds it (success_signals)
  ...ignoreSignals,
};

/** The money columns of one currency (shared by `value_customers` and `value_currencies`). */
function moneyColumns(d: ValueData, currency: string | null) {
  const a = currency === null ? newAmounts() : (d.byCurrency[currency] ?? newAmounts());
  const days = Object.keys(a.dayRevenue);
  let firstDay: string | null = null;
  for (const day of days) if (firstDay === null || day < firstDay) firstDay = day;
  const mrr = currency === null ? 0 : mrrOf(d, currency);
  let active = 0;
  for (const s of Object.values(d.subs)) if (s.status === 'active' && s.currency === currency) active++;
  return {
    orders: a.orders,
    gross_revenue_minor: a.gross,
    refunds_minor: a.refunds,
    net_revenue_minor: a.gross - a.refunds,
    first_purchase_at: a.firstPurchaseAt,
    last_purchase_at: a.lastPurchaseAt,
    purchase_days: days.length,
    repeat_revenue_minor: firstDay === null ? 0 : a.gross - (a.dayRevenue[firstDay] ?? 0),
    mrr_minor: mrr,
    arr_minor: mrr * 12,
    active_subscriptions: active,
    expansion_mrr_minor: a.expansionMrr,
    contraction_mrr_minor: a.contractionMrr,
    churned_mrr_minor: a.churnedMrr,
  };
}

const currenciesOf = (d: ValueData): string[] => Object.keys(d.byCurrency).sort();

function customerRow(d: ValueData): Row {
  const currencies = currenciesOf(d);
  return {
    customer_id: d.customerId,
    ...profileColumns(d.profile),
    first_seen_at: d.profile.firstSeenAt,
    last_event_at: d.profile.lastEventAt,
    erased_at: d.profile.erasedAt,
    currency: d.currency,
    currencies: currencies.length === 0 ? null : currencies.join(','),
    ...moneyColumns(d, d.currency),
    anomalies: d.anomalyCount,
  };
}

const currencyRow = (d: ValueData, currency: string): Row => ({
  customer_id: d.customerId,
  currency,
  ...moneyColumns(d, currency),
});

const monthRow = (customerId: string, key: string, m: Month): Row => {
  const [monthKey, currency] = key.split('|') as [string, string];
  return {
    customer_id: customerId,
    month: monthKey,
    currency,
    orders: m.orders,
    gross_minor: m.gross,
    refunds_minor: m.refunds,
    mrr_end_minor: m.mrrEnd,
  };
};

/**
 * The value view: historical lifetime value. Revenue, refunds and orders; the CLV inputs (first and last
 * purchase, distinct purchase days, repeat revenue); subscriptions with MRR/ARR, expansion, contraction and
 * churned MRR; per month revenue and month-end MRR for cohort revenue retention. Every amount is kept per
 * currency (`value_currencies`, `value_months.currency`): nothing is dropped for being in another currency
 * and nothing adds minor units of two currencies; `value_customers` shows the main (first) currency.
 */
export const valueProjection = viewFrame<ValueData>({
  name: 'value',
  spec: valueSpec,
  fresh: () => ({
    currency: null,
    byCurrency: emptyRecord(),
    subs: emptyRecord(),
    months: emptyRecord(),
  }),
  handlers,
  summaryTable: 'value_customers',
  summaryRow: customerRow,
  // Any event may change a currency's amounts or MRR: the few per-currency rows are written with the summary.
  withSummary: (d) => currenciesOf(d).map((c) => ({ table: 'value_currencies', row: currencyRow(d, c) })),
  detailRow(d, key) {
    const m = d.months[key];
    return m === undefined ? undefined : { table: 'value_months', row: monthRow(d.customerId, key, m) };
  },
  detailKeys: (d) => Object.keys(d.months).sort(),
});
