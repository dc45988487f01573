import * as E from 'fp-ts/lib/Either.js';
import type { InvalidInput } from './errors.js';
import type { RfmValueSummary } from './summary.js';

/**
 * The observation (calibration) window of a fit, and the model's time unit.
 *
 * Conventions (those of the published CDNOW summary and of `lifetimes`' `summary_data_from_transaction_data`):
 * - purchases are counted per UTC **day**: several orders on one day are one purchase occasion, their
 *   values summed;
 * - a purchase is inside the window when its day is on or before `observationEnd` (the last observed day,
 *   inclusive), i.e. when it occurred before the next midnight UTC;
 * - T is the number of days from the first purchase day to `observationEnd`, divided by `daysPerUnit`;
 *   so a CDNOW customer who first bought on 1997-01-01 has T = 272 / 7 = 38.86 weeks at the end of the
 *   39-week calibration period (observationEnd 1997-09-30).
 */
export interface CalibrationWindow {
  /** The last observed UTC day, `YYYY-MM-DD`, inclusive. */
  readonly observationEnd: string;
  /** Days per model time unit (default 7: weeks). */
  readonly daysPerUnit?: number;
}

/** The value view's per-customer purchase facts, restricted to the window (purchase days and their revenue). */
export interface PurchaseFacts {
  /** First and last UTC purchase day in the window, `YYYY-MM-DD` (a timestamp's first 10 characters). */
  readonly firstPurchaseDay: string;
  readonly lastPurchaseDay: string;
  /** Distinct UTC days with a purchase. */
  readonly purchaseDays: number;
  /** Revenue of the purchase days after the first one (any unit: minor units are fine). */
  readonly repeatRevenue: number;
}

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Days since 1970-01-01 of a `YYYY-MM-DD` (or a timestamp's day), NaN if it is not a date. */
export function dayNumber(day: string): number {
  const d = day.slice(0, 10);
  return DAY.test(d) ? Date.parse(`${d}T00:00:00Z`) / DAY_MS : NaN;
}

const invalid = (field: string, value: unknown, message: string): InvalidInput => ({
  type: 'InvalidInput',
  model: 'bg-nbd',
  field,
  value,
  message,
});

/**
 * frequency / recency / T / mean repeat spend of one customer at the end of the window:
 * x = purchaseDays − 1, tₓ = (last − first) days, T = (observationEnd − first) days, in model units;
 * monetaryValue = repeatRevenue / x (0 for x = 0).
 */
export function rfmFromPurchaseFacts(
  facts: PurchaseFacts,
  window: CalibrationWindow,
): E.Either<InvalidInput, RfmValueSummary> {
  const unit = window.daysPerUnit ?? 7;
  const first = dayNumber(facts.firstPurchaseDay);
  const last = dayNumber(facts.lastPurchaseDay);
  const end = dayNumber(window.observationEnd);
  if (!(unit > 0)) return E.left(invalid('daysPerUnit', unit, 'days per unit must be > 0'));
  if (Number.isNaN(end))
    return E.left(invalid('observationEnd', window.observationEnd, 'not a YYYY-MM-DD day'));
  if (Number.isNaN(first) || first > end)
    return E.left(invalid('firstPurchaseDay', facts.firstPurchaseDay, 'not a day inside the window'));
  if (Number.isNaN(last) || last < first || last > end)
    return E.left(
      invalid(
        'lastPurchaseDay',
        facts.lastPurchaseDay,
        'not a day between the first purchase and the window end',
      ),
    );
  if (
    !Number.isInteger(facts.purchaseDays) ||
    facts.purchaseDays < 1 ||
    facts.purchaseDays > last - first + 1
  )
    return E.left(
      invalid(
        'purchaseDays',
        facts.purchaseDays,
        'must be between 1 and the days from first to last purchase',
      ),
    );
  if ((facts.purchaseDays === 1) !== (first === last))
    return E.left(invalid('purchaseDays', facts.purchaseDays, 'one purchase day exactly when first = last'));
  const frequency = facts.purchaseDays - 1;
  return E.right({
    frequency,
    recency: (last - first) / unit,
    T: (end - first) / unit,
    monetaryValue: frequency > 0 ? facts.repeatRevenue / frequency : 0,
  });
}

/**
 * The same from a customer's revenue per purchase day (`YYYY-MM-DD` → revenue, any order): days after
 * `observationEnd` are ignored. `undefined` when the customer has no purchase in the window.
 */
export function rfmFromDayRevenue(
  dayRevenue: Readonly<Record<string, number>>,
  window: CalibrationWindow,
): E.Either<InvalidInput, RfmValueSummary | undefined> {
  const end = window.observationEnd;
  const days = Object.keys(dayRevenue)
    .filter((d) => d.slice(0, 10) <= end)
    .sort();
  if (days.length === 0) return E.right(undefined);
  let total = 0;
  for (const d of days) total += dayRevenue[d]!;
  const firstDay = days[0]!;
  return rfmFromPurchaseFacts(
    {
      firstPurchaseDay: firstDay,
      lastPurchaseDay: days[days.length - 1]!,
      purchaseDays: days.length,
      repeatRevenue: total - dayRevenue[firstDay]!,
    },
    window,
  );
}
