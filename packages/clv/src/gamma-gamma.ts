import { CONCENTRATION_LIMIT } from './bg-nbd.js';
import * as E from 'fp-ts/lib/Either.js';
import type { FitError, InvalidInput } from './errors.js';
import { nelderMead, type NelderMeadOptions } from './nelder-mead.js';
import { lnGamma } from './special.js';

/**
 * Gamma-Gamma spend parameters (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999): each
 * transaction's value is Gamma(p, ν); a customer's ν is Gamma(q, v) across customers. The population
 * mean transaction value is p·v / (q − 1) (finite for q > 1).
 */
export interface GammaGammaParams {
  readonly p: number;
  readonly q: number;
  readonly v: number;
}

/** What the spend model reads per customer: repeat purchases x and their mean value zbar (> 0 when x ≥ 1). */
export interface SpendSummary {
  readonly frequency: number;
  readonly monetaryValue: number;
}

export interface GammaGammaFit {
  readonly params: GammaGammaParams;
  readonly logLikelihood: number;
  /** Customers the fit used: those with frequency ≥ 1. */
  readonly customers: number;
  readonly evaluations: number;
}

export interface GammaGammaFitOptions {
  /** Refuse to fit on fewer repeat buyers than this (default 20). */
  readonly minCustomers?: number;
  readonly initial?: GammaGammaParams;
  readonly optimiser?: NelderMeadOptions;
}

/**
 * For a fit the mean repeat spend of a repeat buyer must be > 0 (the likelihood takes its logarithm); a
 * prediction also accepts 0 (a customer whose repeat purchases were free: the estimate shrinks toward 0).
 */
function checkSpend(
  row: SpendSummary,
  purpose: 'fit' | 'predict',
  index?: number,
): E.Either<InvalidInput, SpendSummary> {
  const bad = (field: string, value: unknown, message: string): E.Either<InvalidInput, SpendSummary> =>
    E.left({
      type: 'InvalidInput',
      model: 'gamma-gamma',
      ...(index === undefined ? {} : { index }),
      field,
      value,
      message,
    });
  if (!Number.isInteger(row.frequency) || row.frequency < 0)
    return bad('frequency', row.frequency, 'frequency must be an integer >= 0');
  const m = row.monetaryValue;
  if (row.frequency > 0 && !(Number.isFinite(m) && (purpose === 'fit' ? m > 0 : m >= 0)))
    return bad(
      'monetaryValue',
      row.monetaryValue,
      purpose === 'fit'
        ? 'the mean repeat spend must be a finite number > 0 when frequency >= 1 (leave free repeat purchases out of the fit)'
        : 'the mean repeat spend must be a finite number >= 0',
    );
  return E.right(row);
}

/**
 * ln L of one customer with x ≥ 1 repeat purchases of mean value m:
 *   lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(x·m + v).
 */
function logLikelihoodOf(xs: Float64Array, ms: Float64Array, g: GammaGammaParams): number {
  const { p, q, v } = g;
  let total = xs.length * (q * Math.log(v) - lnGamma(q));
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const m = ms[i]!;
    const px = p * x;
    total +=
      lnGamma(px + q) -
      lnGamma(px) +
      (px - 1) * Math.log(m) +
      px * Math.log(x) -
      (px + q) * Math.log(x * m + v);
  }
  return total;
}

/**
 * Fits Gamma-Gamma by maximum likelihood on the customers with at least one repeat purchase (the others
 * carry no spend information in this model), over log(p, q, v) with Nelder-Mead and restarts.
 * The model assumes spend is independent of purchase frequency: check that correlation before trusting CLV.
 */
export function fitGammaGamma(
  rows: readonly SpendSummary[],
  options: GammaGammaFitOptions = {},
): E.Either<FitError, GammaGammaFit> {
  const minimum = options.minCustomers ?? 20;
  const xs: number[] = [];
  const ms: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const checked = checkSpend(rows[i]!, 'fit', i);
    if (E.isLeft(checked)) return checked;
    if (checked.right.frequency > 0) {
      xs.push(checked.right.frequency);
      ms.push(checked.right.monetaryValue);
    }
  }
  if (rows.length > 0 && xs.length === 0)
    return E.left({ type: 'NoRepeatBuyers', model: 'gamma-gamma', customers: rows.length });
  if (xs.length < minimum)
    return E.left({ type: 'TooFewCustomers', model: 'gamma-gamma', count: xs.length, minimum });
  const X = Float64Array.from(xs);
  const M = Float64Array.from(ms);
  const meanM = ms.reduce((s, m) => s + m, 0) / ms.length;
  const start = options.initial ?? { p: 1, q: 2, v: meanM };
  const objective = (w: readonly number[]): number =>
    -logLikelihoodOf(X, M, { p: Math.exp(w[0]!), q: Math.exp(w[1]!), v: Math.exp(w[2]!) }) / X.length;
  const result = nelderMead(
    objective,
    [Math.log(start.p), Math.log(start.q), Math.log(start.v)],
    options.optimiser,
  );
  const params = { p: Math.exp(result.x[0]!), q: Math.exp(result.x[1]!), v: Math.exp(result.x[2]!) };
  // q and v running off together: the Gamma of the customers' spend scales collapsed to one value (everyone
  // spends alike); p running off: each customer's spend per transaction no longer varies.
  if (params.q > CONCENTRATION_LIMIT || params.p > CONCENTRATION_LIMIT)
    return E.left({
      type: 'NotIdentified',
      model: 'gamma-gamma',
      evaluations: result.evaluations,
      reason:
        params.q > CONCENTRATION_LIMIT
          ? `every customer gets the same mean spend (q = ${params.q.toPrecision(3)}, v = ${params.v.toPrecision(3)} are ` +
            'not identified separately): the data show no heterogeneity in spend between customers'
          : `the spend of one customer does not vary between purchases (p = ${params.p.toPrecision(3)})`,
    });
  if (!result.converged)
    return E.left({
      type: 'NotConverged',
      model: 'gamma-gamma',
      evaluations: result.evaluations,
      message: 'Nelder-Mead ran out of evaluations before meeting its tolerances',
    });
  if (!Number.isFinite(result.fx) || [params.p, params.q, params.v].some((w) => !(w >= 1e-8 && w <= 1e8)))
    return E.left({
      type: 'NotConverged',
      model: 'gamma-gamma',
      evaluations: result.evaluations,
      message: `degenerate optimum (p=${params.p}, q=${params.q}, v=${params.v}): the data do not identify the model`,
    });
  return E.right({
    params,
    logLikelihood: -result.fx * X.length,
    customers: X.length,
    evaluations: result.evaluations,
  });
}

/**
 * E[Z | x, zbar]: the expected value of this customer's future transactions, a weighted mean of the population
 * mean p·v/(q−1) and the customer's own zbar, with weight (p·x)/(p·x + q − 1) on zbar. For x = 0 it is the
 * population mean, which needs q > 1.
 */
export function conditionalExpectedSpend(
  params: GammaGammaParams,
  customer: SpendSummary,
): E.Either<InvalidInput, number> {
  const checked = checkSpend(customer, 'predict');
  if (E.isLeft(checked)) return checked;
  const { p, q, v } = params;
  const x = customer.frequency;
  const denominator = p * x + q - 1;
  if (!(denominator > 0))
    return E.left({
      type: 'InvalidInput',
      model: 'gamma-gamma',
      field: 'q',
      value: q,
      message: 'the expected spend is infinite for these parameters (p·x + q ≤ 1)',
    });
  return E.right((p * (v + x * (x > 0 ? customer.monetaryValue : 0))) / denominator);
}
