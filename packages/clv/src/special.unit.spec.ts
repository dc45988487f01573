import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { hyp2f1, lnGamma, logAddExp, logHyp2f1 } from './special.js';

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

describe('lnGamma and logAddExp', () => {
  it('lnGamma matches known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(lnGamma(101)).toBeCloseTo(363.73937555556347, 10); // ln(100!)
  });
  it('logAddExp does not overflow and treats -Infinity as neutral', () => {
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logAddExp(-Infinity, 3)).toBe(3);
    expect(logAddExp(-800, -Infinity)).toBe(-800);
  });
});

describe('hyp2f1 (power series with rescaling)', () => {
  // Reference values: mpmath 1.3.0 hyp2f1 at 40 significant digits.
  const cases: [number, number, number, number, number][] = [
    [1, 1, 2, 0.5, 1.3862943611198906], // = -ln(1-z)/z
    [0.243, 2.426, 2.219, 0.3, 1.100518533085473],
    [2.243, 4.426, 4.219, 0.5, 5.161693901383613],
    [0.5, 0.5, -0.2, 0.4, -0.010141956177323896], // negative c: early terms change sign
    [10.24, 12.4, 13.2, 0.9, 3340589822.000249],
    [50.2, 60.1, 70.3, 0.99, 4.269066079216674e81],
    [0.3, 0.7, 1.5, 0.999, 1.444481010263152],
  ];
  it.each(cases)('2F1(%d, %d; %d; %d) = %d', (a, b, c, z, expected) => {
    const v = right(hyp2f1(a, b, c, z));
    expect(Math.abs(v / expected - 1)).toBeLessThan(1e-12);
  });
  it('returns logarithms past the double range instead of overflowing', () => {
    const v = right(logHyp2f1(400, 400, 10, 0.99));
    expect(v.sign).toBe(1);
    expect(Number.isFinite(v.logAbs)).toBe(true);
    expect(v.logAbs).toBeGreaterThan(Math.log(Number.MAX_VALUE));
  });
  it('is 1 at z = 0 and reports non-convergence past the term limit', () => {
    expect(right(hyp2f1(3, 4, 5, 0))).toBe(1);
    expect(hyp2f1(1, 1, 2, 0.999999, { maxTerms: 1000 })).toEqual(
      E.left({ type: 'SeriesNotConverged', terms: 1000, z: 0.999999 }),
    );
  });
});
