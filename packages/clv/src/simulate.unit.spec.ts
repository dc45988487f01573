import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { expectedPurchases, fitBgNbd } from './bg-nbd.js';
import { sampleGamma, seededUniform, simulateBgNbd } from './simulate.js';

const CDNOW = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describe('BG/NBD simulation and parameter recovery', () => {
  it('draws Gamma variates with the right mean and variance', () => {
    const u = seededUniform(7);
    for (const shape of [0.243, 2.5]) {
      const xs = Array.from({ length: 50_000 }, () => sampleGamma(shape, u));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
      expect(Math.abs(mean / shape - 1)).toBeLessThan(0.03);
      expect(Math.abs(variance / shape - 1)).toBeLessThan(0.08);
    }
  });

  it('is deterministic for a seed', () => {
    const age = () => 39;
    expect(simulateBgNbd(CDNOW, 50, age, 42)).toEqual(simulateBgNbd(CDNOW, 50, age, 42));
    expect(simulateBgNbd(CDNOW, 50, age, 42)).not.toEqual(simulateBgNbd(CDNOW, 50, age, 43));
  });

  it('the mean repeat purchases of new customers over 39 weeks match E[X(39)]', () => {
    const rows = simulateBgNbd(CDNOW, 40_000, () => 39, 1);
    const mean = rows.reduce((s, r) => s + r.frequency, 0) / rows.length;
    const expected = E.getOrElse(() => NaN)(expectedPurchases(CDNOW, 39));
    expect(Math.abs(mean / expected - 1)).toBeLessThan(0.04);
  });

  it('a fit on 30,000 simulated customers recovers the parameters that drew them', () => {
    // Ages spread like the CDNOW cohort: first purchases over 12 weeks, observed to week 39.
    const rows = simulateBgNbd(CDNOW, 30_000, (_, u) => 27 + 12 * u(), 2024);
    const fit = fitBgNbd(rows);
    if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
    const { r, alpha, a, b } = fit.right.params;
    expect(Math.abs(r / CDNOW.r - 1)).toBeLessThan(0.1);
    expect(Math.abs(alpha / CDNOW.alpha - 1)).toBeLessThan(0.1);
    expect(Math.abs(a / CDNOW.a - 1)).toBeLessThan(0.15);
    expect(Math.abs(b / CDNOW.b - 1)).toBeLessThan(0.15);
  });
});

describe('BG/NBD fits that sit on the boundary are refused with the reason', () => {
  it('customers who all share one dropout probability give NotIdentified, not parameters to serve', () => {
    // Beta(2e6, 3.8e7): every customer lapses with probability 0.05 after a purchase, no heterogeneity at all.
    const pointMass = { r: 0.9, alpha: 1.2, a: 2e6, b: 3.8e7 };
    const rows = simulateBgNbd(pointMass, 4_000, (_, u) => 60 + 40 * u(), 11);
    const fit = fitBgNbd(rows);
    expect(E.isLeft(fit)).toBe(true);
    if (E.isRight(fit)) return;
    expect(fit.left.type).toBe('NotIdentified');
    if (fit.left.type !== 'NotIdentified') return;
    expect(fit.left.reason).toMatch(/same dropout probability \(0\.0(4[5-9]|5[0-5])/);
  });

  it('a heterogeneous population with the same mean dropout is identified', () => {
    const rows = simulateBgNbd({ r: 0.9, alpha: 1.2, a: 0.8, b: 15.2 }, 4_000, (_, u) => 60 + 40 * u(), 11);
    const fit = fitBgNbd(rows);
    if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
    expect(fit.right.params.a + fit.right.params.b).toBeLessThan(100);
  });
});
