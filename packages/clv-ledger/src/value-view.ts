import * as E from 'fp-ts/lib/Either.js';
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
