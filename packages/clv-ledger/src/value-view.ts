import * as E from 'fp-ts/lib/Either.js';
import { minorUnitDigits } from '@crm-ledger/events';
import type { FitDataSource } from './fit.js';
import {
  rfmFromPurchaseFacts,
  type CalibrationWindow,
  type InvalidInput,
  type PurchaseFacts,
  type RfmValueSummary,
} from '@crm-ledger/clv';

/**
 * The columns of a `value_customers` row (the value view) that CLV reads. The view must have been computed
 * over the calibration window only (time travel "as of" the window end, on occurredAt), since its
 * purchase columns cover every purchase it was given.
 */
export interface ValueCustomerRow {
  readonly customer_id?: unknown;
  readonly currency?: unknown;
  readonly orders?: unknown;
  readonly first_purchase_at?: unknown;
  readonly last_purchase_at?: unknown;
  readonly purchase_days?: unknown;
  readonly repeat_revenue_minor?: unknown;
}

const invalid = (field: string, value: unknown, message: string): InvalidInput => ({
  type: 'InvalidInput',
  model: 'bg-nbd',
  field,
  value,
  message,
});

/** The purchase facts of a value-view row; `undefined` when the customer has not bought. */
export function purchaseFactsOf(row: ValueCustomerRow): E.Either<InvalidInput, PurchaseFacts | undefined> {
  const {
    first_purchase_at: first,
    last_purchase_at: last,
    purchase_days: days,
    repeat_revenue_minor: repeat,
  } = row;
  if (first === null || first === undefined) return E.right(undefined);
  if (typeof first !== 'string')
    return E.left(invalid('first_purchase_at', first, 'expected an ISO timestamp'));
  if (typeof last !== 'string') return E.left(invalid('last_purchase_at', last, 'expected an ISO timestamp'));
  if (typeof days !== 'number') return E.left(invalid('purchase_days', days, 'expected a number'));
  if (typeof repeat !== 'number') return E.left(invalid('repeat_revenue_minor', repeat, 'expected a number'));
  return E.right({
    firstPurchaseDay: first.slice(0, 10),
    lastPurchaseDay: last.slice(0, 10),
    purchaseDays: days,
    repeatRevenue: repeat,
  });
}

/** frequency / recency / T / mean repeat spend (major units) of a value-view row at the window end. */
export function summaryOfValueRow(
  row: ValueCustomerRow,
  window: CalibrationWindow,
  minorPerMajor = 100,
): E.Either<InvalidInput, RfmValueSummary | undefined> {
  const facts = purchaseFactsOf(row);
  if (E.isLeft(facts)) return facts;
  if (facts.right === undefined) return E.right(undefined);
  return E.map((s: RfmValueSummary) => ({ ...s, monetaryValue: s.monetaryValue / minorPerMajor }))(
    rfmFromPurchaseFacts(facts.right, window),
  );
}

/**
 * Every customer's summary from value-view rows computed over the window, in `currency` only (rows in another
 * currency are left out and counted), with the data window start and what went in, ready for
 * `fitClvOnSummaries`. Give it `value_currencies` rows (one per customer and currency: every customer who paid
 * in `currency`), or `value_customers` rows (each customer's main currency only). Spend is divided by
 * `minorPerMajor`, by default from the currency's ISO 4217 exponent.
 */
export function summariesFromValueRows(
  rows: Iterable<ValueCustomerRow>,
  options: {
    readonly observationEnd: string;
    readonly daysPerUnit?: number;
    readonly currency: string;
    readonly minorPerMajor?: number;
  },
): E.Either<
  InvalidInput,
  { summaries: Map<string, RfmValueSummary>; firstPurchaseDay: string; data: FitDataSource }
> {
  const window = { observationEnd: options.observationEnd, daysPerUnit: options.daysPerUnit ?? 7 };
  const summaries = new Map<string, RfmValueSummary>();
  let firstPurchaseDay = options.observationEnd;
  let purchases = 0;
  let otherCurrency = 0;
  for (const row of rows) {
    if (typeof row.customer_id !== 'string')
      return E.left(invalid('customer_id', row.customer_id, 'expected a string'));
    if (row.currency !== null && row.currency !== undefined && row.currency !== options.currency) {
      otherCurrency += typeof row.orders === 'number' ? row.orders : 0;
      continue;
    }
    const s = summaryOfValueRow(
      row,
      window,
      options.minorPerMajor ?? 10 ** minorUnitDigits(options.currency),
    );
    if (E.isLeft(s)) return E.left({ ...s.left, field: `${row.customer_id}.${s.left.field}` });
    if (s.right === undefined) continue;
    summaries.set(row.customer_id, s.right);
    purchases += typeof row.orders === 'number' ? row.orders : 0;
    const first = (row.first_purchase_at as string).slice(0, 10);
    if (first < firstPurchaseDay) firstPurchaseDay = first;
  }
  return E.right({
    summaries,
    firstPurchaseDay,
    data: { source: 'value-view', purchases, afterWindow: null, otherCurrency },
  });
}
