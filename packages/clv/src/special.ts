import gammaln from '@stdlib/math-base-special-gammaln';
import * as E from 'fp-ts/lib/Either.js';
import type { SeriesNotConverged } from './errors.js';

/** ln Γ(x) for x > 0 (stdlib's implementation, accurate to a few ulp). */
export const lnGamma: (x: number) => number = gammaln;

/** ln(e^a + e^b) without overflow; -Infinity is the neutral element. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** A real number as sign × e^logAbs, so that huge or tiny values survive. */
export interface SignedLog {
  readonly sign: -1 | 0 | 1;
  readonly logAbs: number;
}

export interface Hyp2f1Options {
  /** Stop after this many terms (default 1,000,000): the series needs about 37 / (1 − z) terms. */
  readonly maxTerms?: number;
  /** Relative size of the last term at which the sum is taken as converged (default 1e-16). */
  readonly tolerance?: number;
}

const RESCALE_ABOVE = 1e250;
const LOG_RESCALE = Math.log(RESCALE_ABOVE);

/**
 * The Gaussian hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1, as sign and logarithm.
 *
 * Method: the defining power series Σ (a)ₖ(b)ₖ / ((c)ₖ k!) zᵏ, each term from the previous one by the ratio
 * (a+k)(b+k) z / ((c+k)(k+1)). For the BG/NBD arguments (a, b > 0, z ∈ [0, 1)) every term past k > −c has
 * the same sign, so there is no cancellation; terms can grow huge before they decay (a, b of a few hundred
 * and z near 1), so the running term and sum are rescaled by 1e-250 whenever they pass 1e250 and the
 * scale is carried in the logarithm. The sum stops once the geometric bound on the neglected tail,
 * term × ρ / (1 − ρ) with ρ = max(|ratio|, z), is below `tolerance` × |sum| (past the terms whose sign
 * can change, k > −c).
 * Transformations to 1 − z are not used: they need Γ-function reflection at integer c − a − b, which the
 * fitted parameters can approach arbitrarily; the plain series is exact for every z < 1 at the price of
 * about 37 / (1 − z) terms. Past `maxTerms` the answer is `SeriesNotConverged`.
 * `c` must not be zero or a negative integer (the function has poles there).
 */
export function logHyp2f1(
  a: number,
  b: number,
  c: number,
  z: number,
  options: Hyp2f1Options = {},
): E.Either<SeriesNotConverged, SignedLog> {
  const maxTerms = options.maxTerms ?? 1_000_000;
  const tolerance = options.tolerance ?? 1e-16;
  if (z === 0) return E.right({ sign: 1, logAbs: 0 });
  let term = 1;
  let sum = 1;
  let scale = 0;
  for (let k = 0; k < maxTerms; k++) {
    const ratio = ((a + k) * (b + k) * z) / ((c + k) * (k + 1));
    term *= ratio;
    sum += term;
    if (Math.abs(sum) > RESCALE_ABOVE || Math.abs(term) > RESCALE_ABOVE) {
      term /= RESCALE_ABOVE;
      sum /= RESCALE_ABOVE;
      scale += LOG_RESCALE;
    }
    // Far out the ratio tends to z monotonically, so max(|ratio|, z) bounds every later ratio and the
    // geometric tail term·ρ/(1−ρ) bounds what is left to add.
    const rho = Math.max(Math.abs(ratio), z);
    const pastSignChanges = c + k > 0;
    if (pastSignChanges && rho < 1 && (Math.abs(term) * rho) / (1 - rho) <= tolerance * Math.abs(sum)) {
      const sign = sum > 0 ? 1 : sum < 0 ? -1 : 0;
      return E.right({ sign, logAbs: Math.log(Math.abs(sum)) + scale });
    }
    if (term === 0) {
      // A zero term (a or b a non-positive integer): the series is a polynomial and has ended.
      const sign = sum > 0 ? 1 : sum < 0 ? -1 : 0;
      return E.right({ sign, logAbs: Math.log(Math.abs(sum)) + scale });
    }
  }
  return E.left({ type: 'SeriesNotConverged', terms: maxTerms, z });
}

/** ₂F₁(a, b; c; z) as a plain number (may be ±Infinity when it overflows a double). */
export function hyp2f1(
  a: number,
  b: number,
  c: number,
  z: number,
  options: Hyp2f1Options = {},
): E.Either<SeriesNotConverged, number> {
  return E.map((v: SignedLog) => v.sign * Math.exp(v.logAbs))(logHyp2f1(a, b, c, z, options));
}
