import * as E from 'fp-ts/lib/Either.js';
import type { InvalidInput } from './errors.js';

/**
 * Inputs of a subscription CLV. `retention[i]` is the share of the cohort still paying in month i + 1
 * (so `retention[0]` is normally 1: everyone pays the first month); it is a survival curve, so it never rises.
 */
export interface SubscriptionClvInput {
  /** Monthly recurring revenue of the subscription (any currency unit; minor units are fine). */
  readonly mrr: number;
  /** Gross margin in [0, 1]: the share of revenue that is profit. */
  readonly margin: number;
  /** Observed cohort survival by month, each in [0, 1], non-increasing. */
  readonly retention: readonly number[];
  /** Horizon in months (default: the length of `retention`). */
  readonly months?: number;
  /** Monthly discount rate d (default 0.01). Month i (1-based) is paid in advance and divided by (1 + d)^(i−1). */
  readonly monthlyDiscountRate?: number;
  /**
   * Beyond the observed curve: `'none'` (default) counts nothing after the last observed month;
   * `'last-rate'` continues with the last observed month-on-month retention rate (geometric tail).
   */
  readonly extrapolation?: 'none' | 'last-rate';
}

export interface SubscriptionClv {
  /** Σ mrr · margin · S(i) / (1 + d)^(i−1) over the horizon. */
  readonly clv: number;
  /** The survival used per month (observed, then extrapolated). */
  readonly survival: readonly number[];
}

const invalid = (field: string, value: unknown, message: string, index?: number): InvalidInput => ({
  type: 'InvalidInput',
  model: 'subscription',
  ...(index === undefined ? {} : { index }),
  field,
  value,
  message,
});

/** CLV of a subscription from its MRR, a margin and the cohort's retention (survival) curve. */
export function subscriptionClv(input: SubscriptionClvInput): E.Either<InvalidInput, SubscriptionClv> {
  const { mrr, margin, retention } = input;
  const d = input.monthlyDiscountRate ?? 0.01;
  const months = input.months ?? retention.length;
  if (!(Number.isFinite(mrr) && mrr >= 0))
    return E.left(invalid('mrr', mrr, 'MRR must be a finite number >= 0'));
  if (!(margin >= 0 && margin <= 1)) return E.left(invalid('margin', margin, 'margin must be in [0, 1]'));
  if (!(Number.isFinite(d) && d > -1))
    return E.left(invalid('monthlyDiscountRate', d, 'the discount rate must be > -1'));
  if (!Number.isInteger(months) || months < 0)
    return E.left(invalid('months', months, 'months must be an integer >= 0'));
  if (retention.length === 0)
    return E.left(invalid('retention', retention, 'the retention curve needs at least one month'));
  for (let i = 0; i < retention.length; i++) {
    const s = retention[i]!;
    if (!(s >= 0 && s <= 1)) return E.left(invalid('retention', s, 'survival must be in [0, 1]', i));
    if (i > 0 && s > retention[i - 1]!)
      return E.left(
        invalid(
          'retention',
          s,
          'a survival curve never rises: a month cannot retain more than the month before',
          i,
        ),
      );
  }
  const last = retention[retention.length - 1]!;
  const beforeLast = retention.length > 1 ? retention[retention.length - 2]! : 1;
  const tailRate = input.extrapolation === 'last-rate' && beforeLast > 0 ? last / beforeLast : 0;
  const survival: number[] = [];
  let clv = 0;
  for (let i = 0; i < months; i++) {
    const s = i < retention.length ? retention[i]! : survival[i - 1]! * tailRate;
    survival.push(s);
    clv += (mrr * margin * s) / Math.pow(1 + d, i);
  }
  return E.right({ clv, survival });
}

/** One subscription of a cohort: whole months paid so far, and whether it has ended. */
export interface SubscriptionTenure {
  readonly monthsPaid: number;
  readonly cancelled: boolean;
}

/**
 * The cohort's retention curve by the Kaplan-Meier estimator, so that subscriptions still running (censored)
 * count for the months they were observed: S(1) = 1 and S(i+1) = S(i) · (1 − dᵢ / nᵢ), where dᵢ is the
 * number that cancelled after exactly i paid months and nᵢ the number known to have paid month i and to have
 * either cancelled then or paid month i + 1. Returns S(1)..S(months).
 */
export function kaplanMeierRetention(
  cohort: readonly SubscriptionTenure[],
  months: number,
): E.Either<InvalidInput, readonly number[]> {
  if (cohort.length === 0) return E.left(invalid('cohort', cohort.length, 'the cohort is empty'));
  if (!Number.isInteger(months) || months < 1)
    return E.left(invalid('months', months, 'months must be an integer >= 1'));
  const cancelledAt = new Array<number>(months + 1).fill(0);
  const longer = new Array<number>(months + 2).fill(0); // longer[i]: paid more than i months
  for (let j = 0; j < cohort.length; j++) {
    const m = cohort[j]!.monthsPaid;
    if (!Number.isInteger(m) || m < 1)
      return E.left(invalid('monthsPaid', m, 'months paid must be an integer >= 1', j));
    for (let i = 1; i <= Math.min(m - 1, months); i++) longer[i]!++;
    if (cohort[j]!.cancelled && m <= months) cancelledAt[m]!++;
  }
  const survival = [1];
  for (let i = 1; i < months; i++) {
    const atRisk = longer[i]! + cancelledAt[i]!;
    const prev = survival[i - 1]!;
    survival.push(atRisk === 0 ? prev : prev * (1 - cancelledAt[i]! / atRisk));
  }
  return E.right(survival);
}
