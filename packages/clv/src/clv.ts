import * as E from 'fp-ts/lib/Either.js';
import { conditionalExpectedPurchases, type BgNbdParams } from './bg-nbd.js';
import type { PredictError } from './errors.js';
import { conditionalExpectedSpend, type GammaGammaParams } from './gamma-gamma.js';
import type { RfmValueSummary } from './summary.js';

export interface DiscountedClvOptions {
  /** Horizon in months (default 12). */
  readonly months?: number;
  /** Monthly discount rate d (default 0.01): month i's value is divided by (1 + d)^i. */
  readonly monthlyDiscountRate?: number;
  /** Model time units per month (default 4.345: the model is in weeks, as for CDNOW and in lifetimes). */
  readonly timeUnitsPerMonth?: number;
}

/**
 * Discounted CLV of one customer over a horizon (the discrete sum of the `lifetimes` library):
 *   Σᵢ₌₁..ₘ E[Z | x, zbar] · (E[Y(i·k) | x, tₓ, T] − E[Y((i−1)·k) | x, tₓ, T]) / (1 + d)^i
 * with k time units per month: expected purchases in month i times the expected spend per purchase,
 * discounted to today at the end of each month. In the currency unit of `monetaryValue` (revenue, not margin:
 * multiply by a margin for profit).
 */
export function discountedClv(
  bgNbd: BgNbdParams,
  gammaGamma: GammaGammaParams,
  customer: RfmValueSummary,
  options: DiscountedClvOptions = {},
): E.Either<PredictError, number> {
  const months = options.months ?? 12;
  const d = options.monthlyDiscountRate ?? 0.01;
  const k = options.timeUnitsPerMonth ?? 4.345;
  if (!Number.isInteger(months) || months < 0)
    return E.left({
      type: 'InvalidInput',
      model: 'bg-nbd',
      field: 'months',
      value: months,
      message: 'months must be an integer >= 0',
    });
  if (!(Number.isFinite(d) && d > -1))
    return E.left({
      type: 'InvalidInput',
      model: 'bg-nbd',
      field: 'monthlyDiscountRate',
      value: d,
      message: 'the discount rate must be > -1',
    });
  if (!(Number.isFinite(k) && k > 0))
    return E.left({
      type: 'InvalidInput',
      model: 'bg-nbd',
      field: 'timeUnitsPerMonth',
      value: k,
      message: 'time units per month must be > 0',
    });
  const spend = conditionalExpectedSpend(gammaGamma, customer);
  if (E.isLeft(spend)) return spend;
  let clv = 0;
  let previous = 0;
  for (let i = 1; i <= months; i++) {
    const cumulative = conditionalExpectedPurchases(bgNbd, customer, i * k);
    if (E.isLeft(cumulative)) return cumulative;
    clv += (spend.right * (cumulative.right - previous)) / Math.pow(1 + d, i);
    previous = cumulative.right;
  }
  return E.right(clv);
}
