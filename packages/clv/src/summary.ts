import * as E from 'fp-ts/lib/Either.js';
import type { ClvModel, InvalidInput } from './errors.js';

/**
 * One customer's purchase history as the BG/NBD model sees it, in one time unit (CDNOW: weeks):
 * - `frequency` (x): repeat purchases, i.e. distinct purchase days after the first one;
 * - `recency` (tₓ): time from the first purchase to the last one (0 when x = 0);
 * - `T`: the customer's age, time from the first purchase to the end of the observation window.
 */
export interface RfmSummary {
  readonly frequency: number;
  readonly recency: number;
  readonly T: number;
}

/** An {@link RfmSummary} with the mean value of the repeat purchases (zbar; 0 or anything when x = 0). */
export interface RfmValueSummary extends RfmSummary {
  readonly monetaryValue: number;
}

/** Slack for recency > T caused by rounding to two decimals in published summaries. */
const ROUNDING_SLACK = 1e-6;

/** Checks one summary row; `index` names the row in the error. */
export function checkRfm(
  model: ClvModel,
  row: RfmSummary,
  index?: number,
): E.Either<InvalidInput, RfmSummary> {
  const bad = (field: string, value: unknown, message: string): E.Either<InvalidInput, RfmSummary> =>
    E.left({ type: 'InvalidInput', model, ...(index === undefined ? {} : { index }), field, value, message });
  const { frequency: x, recency, T } = row;
  if (!Number.isInteger(x) || x < 0) return bad('frequency', x, 'frequency must be an integer >= 0');
  if (!Number.isFinite(T) || T < 0) return bad('T', T, 'T must be a finite number >= 0');
  if (!Number.isFinite(recency) || recency < 0)
    return bad('recency', recency, 'recency must be a finite number >= 0');
  if (recency > T * (1 + ROUNDING_SLACK) + ROUNDING_SLACK)
    return bad('recency', recency, 'recency cannot exceed T (the last purchase is inside the window)');
  if (x === 0 && recency !== 0) return bad('recency', recency, 'recency must be 0 when frequency is 0');
  return E.right(row);
}
