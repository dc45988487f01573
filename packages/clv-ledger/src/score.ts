import * as E from 'fp-ts/lib/Either.js';
import {
  conditionalExpectedPurchases,
  conditionalExpectedSpend,
  discountedClv,
  probabilityAlive,
  type PredictError,
  type RfmValueSummary,
} from '@crm-ledger/clv';
import type { ClvFitRecord } from './fit.js';

export interface ScoreOptions {
  /** Horizon of `expectedPurchases`, in model time units (default 52: a year in weeks). */
  readonly horizon?: number;
  /** CLV horizon in months (default 12). */
  readonly months?: number;
  /** Monthly discount rate (default 0.01). */
  readonly monthlyDiscountRate?: number;
}

/** What the value view shows per customer from a fit. Money in major units of the fit's currency. */
export interface CustomerClvScore {
  readonly frequency: number;
  readonly recency: number;
  readonly T: number;
  readonly probabilityAlive: number;
  readonly expectedPurchases: number;
  readonly expectedSpend: number;
  readonly clv: number;
}

/** Scores one customer's summary with a stored fit. */
export function scoreCustomer(
  record: ClvFitRecord,
  summary: RfmValueSummary,
  options: ScoreOptions = {},
): E.Either<PredictError, CustomerClvScore> {
  const { bgNbd, gammaGamma } = record;
  const alive = probabilityAlive(bgNbd.params, summary);
  if (E.isLeft(alive)) return alive;
  const purchases = conditionalExpectedPurchases(bgNbd.params, summary, options.horizon ?? 52);
  if (E.isLeft(purchases)) return purchases;
  const spend = conditionalExpectedSpend(gammaGamma.params, summary);
  if (E.isLeft(spend)) return spend;
  const clv = discountedClv(bgNbd.params, gammaGamma.params, summary, {
    months: options.months ?? 12,
    monthlyDiscountRate: options.monthlyDiscountRate ?? 0.01,
    timeUnitsPerMonth: 365.25 / 12 / record.window.daysPerUnit,
  });
  if (E.isLeft(clv)) return clv;
  return E.right({
    frequency: summary.frequency,
    recency: summary.recency,
    T: summary.T,
    probabilityAlive: alive.right,
    expectedPurchases: purchases.right,
    expectedSpend: spend.right,
    clv: clv.right,
  });
}
