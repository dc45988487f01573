import * as E from 'fp-ts/lib/Either.js';
import type { FitError, PredictError } from './errors.js';
import { nelderMead, type NelderMeadOptions } from './nelder-mead.js';
import { lnGamma, logAddExp, logHyp2f1, type Hyp2f1Options } from './special.js';
import { checkRfm, type RfmSummary } from './summary.js';

/**
 * BG/NBD parameters (Fader, Hardie & Lee 2005): while alive a customer buys at rate λ ~ Gamma(r, α)
 * (shape r, rate α, in purchases per time unit); after each purchase they drop out with probability
 * p ~ Beta(a, b).
 */
export interface BgNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly a: number;
  readonly b: number;
}

export interface BgNbdFit {
  readonly params: BgNbdParams;
  /** Total log-likelihood at the optimum (CDNOW sample: about -9582.4). */
  readonly logLikelihood: number;
  readonly customers: number;
  readonly repeatBuyers: number;
  readonly evaluations: number;
}

export interface BgNbdFitOptions {
  /** Refuse to fit fewer customers than this (default 20). */
  readonly minCustomers?: number;
  /** Start of the search (default r = 1, α = ΣT / Σx, a = 1, b = 1). */
  readonly initial?: BgNbdParams;
  readonly optimiser?: NelderMeadOptions;
}

/** Parameters outside [1e-8, 1e8] mean the likelihood ran off to a boundary: the data do not pin the model. */
const PARAM_MIN = 1e-8;
const PARAM_MAX = 1e8;
/**
 * Shape parameters past this make a mixing distribution a point mass for any practical purpose (the standard
 * deviation of a Beta(a, b) is below 0.5/sqrt(a+b+1), under 0.5% of its range). CDNOW's fit has a + b = 3.2.
 */
export const CONCENTRATION_LIMIT = 1e4;

/**
 * Why a BG/NBD optimum sits on the boundary of the parameter space, or undefined when it does not: the Beta of
 * the dropout probabilities or the Gamma of the purchase rates collapsed to one value.
 */
export function bgNbdBoundary(p: BgNbdParams): string | undefined {
  if (p.a + p.b > CONCENTRATION_LIMIT)
    return (
      `every customer gets the same dropout probability (${(p.a / (p.a + p.b)).toPrecision(3)} after each purchase; ` +
      `a = ${p.a.toPrecision(3)}, b = ${p.b.toPrecision(3)} are not identified separately): the purchases do not ` +
      'tell customers who lapsed from customers still buying, e.g. a window too short for anyone to lapse, or one ' +
      'that ends long after the last recorded purchase'
    );
  if (p.r > CONCENTRATION_LIMIT)
    return (
      `every customer gets the same purchase rate (r = ${p.r.toPrecision(3)}, alpha = ${p.alpha.toPrecision(3)} ` +
      'are not identified separately): the data show no heterogeneity in how often customers buy'
    );
  return undefined;
}

/** Customer columns, checked once; the likelihood loops over typed arrays. */
interface Columns {
  readonly n: number;
  readonly x: Float64Array;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  /** Distinct frequencies, and for each customer the index of its frequency in that list. */
  readonly distinctX: readonly number[];
  readonly xIndex: Uint32Array;
}

function toColumns(rows: readonly RfmSummary[]): E.Either<FitError, Columns> {
  const n = rows.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const xIndex = new Uint32Array(n);
  const slot = new Map<number, number>();
  const distinctX: number[] = [];
  for (let i = 0; i < n; i++) {
    const checked = checkRfm('bg-nbd', rows[i]!, i);
    if (E.isLeft(checked)) return checked;
    const row = checked.right;
    x[i] = row.frequency;
    tx[i] = row.recency;
    T[i] = row.T;
    let s = slot.get(row.frequency);
    if (s === undefined) {
      s = distinctX.length;
      slot.set(row.frequency, s);
      distinctX.push(row.frequency);
    }
    xIndex[i] = s;
  }
  return E.right({ n, x, tx, T, distinctX, xIndex });
}

/**
 * Total BG/NBD log-likelihood, in log space throughout (FHL 2005, eq. 6; Fader & Hardie's note on its
 * implementation):
 *   ln Lᵢ = A₁ + A₂ + ln(e^A₃ + δ(x>0) e^A₄)
 *   A₁ = lnΓ(r+x) − lnΓ(r) + r ln α,  A₂ = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x),
 *   A₃ = −(r+x) ln(α+T),  A₄ = ln a − ln(b+x−1) − (r+x) ln(α+tₓ).
 * A₄ exists only for x > 0 (for x = 0 its b+x−1 could be negative); the sum of the two exponentials is a
 * log-add-exp. The Γ terms depend on x alone and are computed once per distinct frequency.
 */
function logLikelihoodOf(cols: Columns, p: BgNbdParams): number {
  const { r, alpha, a, b } = p;
  const k = cols.distinctX.length;
  const termX = new Float64Array(k);
  const termA4 = new Float64Array(k);
  const common = -lnGamma(r) + r * Math.log(alpha) + lnGamma(a + b) - lnGamma(b);
  for (let s = 0; s < k; s++) {
    const x = cols.distinctX[s]!;
    termX[s] = lnGamma(r + x) + lnGamma(b + x) - lnGamma(a + b + x);
    termA4[s] = x > 0 ? Math.log(a) - Math.log(b + x - 1) : -Infinity;
  }
  let total = cols.n * common;
  const { x, tx, T, xIndex } = cols;
  for (let i = 0; i < cols.n; i++) {
    const s = xIndex[i]!;
    const rx = r + x[i]!;
    const a3 = -rx * Math.log(alpha + T[i]!);
    const a4 = x[i]! > 0 ? termA4[s]! - rx * Math.log(alpha + tx[i]!) : -Infinity;
    total += termX[s]! + logAddExp(a3, a4);
  }
  return total;
}

/** The BG/NBD log-likelihood of `rows` at `params` (for diagnostics and tests). */
export function bgNbdLogLikelihood(
  rows: readonly RfmSummary[],
  params: BgNbdParams,
): E.Either<FitError, number> {
  return E.map((cols: Columns) => logLikelihoodOf(cols, params))(toColumns(rows));
}

const fromLog = (v: readonly number[]): BgNbdParams => ({
  r: Math.exp(v[0]!),
  alpha: Math.exp(v[1]!),
  a: Math.exp(v[2]!),
  b: Math.exp(v[3]!),
});

/**
 * Fits BG/NBD by maximum likelihood. The search runs over the logarithms of (r, α, a, b), which keeps every
 * parameter positive without constraints, using Nelder-Mead with restarts on −ln L / n.
 * Fails (as data) on invalid rows, on fewer than `minCustomers`, when nobody bought twice, and when the
 * optimiser did not converge or ended at a degenerate point.
 */
export function fitBgNbd(
  rows: readonly RfmSummary[],
  options: BgNbdFitOptions = {},
): E.Either<FitError, BgNbdFit> {
  const minimum = options.minCustomers ?? 20;
  if (rows.length < minimum)
    return E.left({ type: 'TooFewCustomers', model: 'bg-nbd', count: rows.length, minimum });
  const checked = toColumns(rows);
  if (E.isLeft(checked)) return checked;
  const cols = checked.right;
  let sumX = 0;
  let sumT = 0;
  let repeatBuyers = 0;
  for (let i = 0; i < cols.n; i++) {
    sumX += cols.x[i]!;
    sumT += cols.T[i]!;
    if (cols.x[i]! > 0) repeatBuyers++;
  }
  if (repeatBuyers === 0) return E.left({ type: 'NoRepeatBuyers', model: 'bg-nbd', customers: cols.n });

  const start = options.initial ?? { r: 1, alpha: Math.max(sumT / sumX, 1e-3), a: 1, b: 1 };
  const x0 = [Math.log(start.r), Math.log(start.alpha), Math.log(start.a), Math.log(start.b)];
  const objective = (v: readonly number[]): number => -logLikelihoodOf(cols, fromLog(v)) / cols.n;
  const result = nelderMead(objective, x0, options.optimiser);
  const params = fromLog(result.x);
  const boundary = bgNbdBoundary(params);
  if (boundary !== undefined)
    return E.left({
      type: 'NotIdentified',
      model: 'bg-nbd',
      evaluations: result.evaluations,
      reason: boundary,
    });
  if (!result.converged)
    return E.left({
      type: 'NotConverged',
      model: 'bg-nbd',
      evaluations: result.evaluations,
      message: 'Nelder-Mead ran out of evaluations before meeting its tolerances',
    });
  const values = [params.r, params.alpha, params.a, params.b];
  if (!Number.isFinite(result.fx) || values.some((v) => !(v >= PARAM_MIN && v <= PARAM_MAX)))
    return E.left({
      type: 'NotConverged',
      model: 'bg-nbd',
      evaluations: result.evaluations,
      message: `degenerate optimum (r=${params.r}, alpha=${params.alpha}, a=${params.a}, b=${params.b}): the data do not identify the model`,
    });
  return E.right({
    params,
    logLikelihood: -result.fx * cols.n,
    customers: cols.n,
    repeatBuyers,
    evaluations: result.evaluations,
  });
}

/**
 * ln of the odds that the customer has dropped out: ln[ a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x) ], or −∞ for x = 0
 * (BG/NBD customers can only drop out right after a purchase, so a one-time buyer is alive for sure).
 */
function logDropoutOdds(p: BgNbdParams, c: RfmSummary): number {
  const x = c.frequency;
  if (x === 0) return -Infinity;
  return (
    Math.log(p.a) - Math.log(p.b + x - 1) + (p.r + x) * Math.log((p.alpha + c.T) / (p.alpha + c.recency))
  );
}

/** P(alive | x, tₓ, T) (FHL 2005, eq. 11): the probability the customer has not dropped out by T. */
export function probabilityAlive(params: BgNbdParams, customer: RfmSummary): E.Either<PredictError, number> {
  return E.map((c: RfmSummary) => {
    const L = logDropoutOdds(params, c);
    return L > 0 ? Math.exp(-L) / (1 + Math.exp(-L)) : 1 / (1 + Math.exp(L));
  })(checkRfm('bg-nbd', customer));
}

/** |a − 1| below this: evaluate on both sides and average (the formula has a removable singularity at a = 1). */
const A_NEAR_ONE = 1e-7;

/**
 * E[Y(t) | x, tₓ, T] (FHL 2005, eq. 10): expected purchases in the next `t` time units of a customer with
 * this history:
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive).
 * The power and the ₂F₁ are combined in log space (the ₂F₁ alone can exceed 1e300 for frequent buyers),
 * and 1 − e^g is computed as −expm1(g) so short horizons keep their precision.
 */
export function conditionalExpectedPurchases(
  params: BgNbdParams,
  customer: RfmSummary,
  t: number,
  options: Hyp2f1Options = {},
): E.Either<PredictError, number> {
  if (!Number.isFinite(t) || t < 0)
    return E.left({
      type: 'InvalidInput',
      model: 'bg-nbd',
      field: 't',
      value: t,
      message: 't must be a finite number >= 0',
    });
  const checked = checkRfm('bg-nbd', customer);
  if (E.isLeft(checked)) return checked;
  if (Math.abs(params.a - 1) < A_NEAR_ONE) {
    const lo = conditionalExpectedPurchases({ ...params, a: 1 - 2 * A_NEAR_ONE }, customer, t, options);
    const hi = conditionalExpectedPurchases({ ...params, a: 1 + 2 * A_NEAR_ONE }, customer, t, options);
    if (E.isLeft(lo)) return lo;
    if (E.isLeft(hi)) return hi;
    return E.right((lo.right + hi.right) / 2);
  }
  if (t === 0) return E.right(0);
  const { r, alpha, a, b } = params;
  const x = customer.frequency;
  const T = customer.T;
  const z = t / (alpha + T + t);
  const h = logHyp2f1(r + x, b + x, a + b + x - 1, z, options);
  if (E.isLeft(h)) return h;
  const g = (r + x) * Math.log((alpha + T) / (alpha + T + t)) + h.right.logAbs;
  const bracket = h.right.sign > 0 ? -Math.expm1(g) : 1 + h.right.sign * Math.exp(g);
  const L = logDropoutOdds(params, customer);
  const pAlive = L > 0 ? Math.exp(-L) / (1 + Math.exp(-L)) : 1 / (1 + Math.exp(L));
  return E.right(((a + b + x - 1) / (a - 1)) * bracket * pAlive);
}

/** E[X(t)] (FHL 2005, eq. 9): expected purchases of a new customer in their first `t` time units. */
export function expectedPurchases(
  params: BgNbdParams,
  t: number,
  options: Hyp2f1Options = {},
): E.Either<PredictError, number> {
  return conditionalExpectedPurchases(params, { frequency: 0, recency: 0, T: 0 }, t, options);
}
