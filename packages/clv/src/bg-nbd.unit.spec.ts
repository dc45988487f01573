import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  conditionalExpectedPurchases,
  expectedPurchases,
  fitBgNbd,
  probabilityAlive,
  type BgNbdParams,
} from './bg-nbd.js';
import { conditionalExpectedSpend, fitGammaGamma } from './gamma-gamma.js';
import { discountedClv } from './clv.js';

/** The shared data sits beside the repository (`../shared/data`); worktrees find it at /work/shared. */
const cdnowDir = [
  process.env.CRM_LEDGER_CDNOW_DIR,
  path.resolve(import.meta.dirname, '../../../../shared/data/cdnow'),
  '/work/shared/data/cdnow',
].find((d): d is string => d !== undefined && existsSync(path.join(d, 'cdnow_customers_summary.csv')));

function readCsv(file: string): Record<string, number>[] {
  const [header, ...lines] = readFileSync(path.join(cdnowDir!, file), 'utf8').trim().split(/\r?\n/);
  const names = header!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, Number(v)])));
}

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const within = (actual: number, expected: number, relative: number): void => {
  expect(Math.abs(actual / expected - 1)).toBeLessThan(relative);
};

/** The maximum-likelihood estimate on the 2,357-customer summary, by scipy Nelder-Mead at 1e-12 (reference). */
const MLE: BgNbdParams = { r: 0.24259292, alpha: 4.4135319, a: 0.79288615, b: 2.42575355 };

describe.runIf(cdnowDir !== undefined)('BG/NBD on the CDNOW sample summary', () => {
  const rows = () =>
    readCsv('cdnow_customers_summary.csv').map((r) => ({
      frequency: r.frequency!,
      recency: r.recency!,
      T: r.T!,
    }));

  it('reproduces the published r, alpha, a, b within 1% and the log-likelihood -9582.4', () => {
    const fit = right(fitBgNbd(rows()));
    within(fit.params.r, 0.243, 0.01);
    within(fit.params.alpha, 4.414, 0.01);
    within(fit.params.a, 0.793, 0.01);
    within(fit.params.b, 2.426, 0.01);
    expect(fit.logLikelihood).toBeCloseTo(-9582.43, 1);
    expect(fit.customers).toBe(2357);
    expect(fit.repeatBuyers).toBe(946);
    // Far tighter than 1%: the same optimum as the reference implementation.
    within(fit.params.r, MLE.r, 1e-4);
    within(fit.params.alpha, MLE.alpha, 1e-4);
    within(fit.params.a, MLE.a, 1e-4);
    within(fit.params.b, MLE.b, 1e-4);
  });

  it('finds the same optimum from a far start', () => {
    const fit = right(fitBgNbd(rows(), { initial: { r: 20, alpha: 0.05, a: 30, b: 0.01 } }));
    within(fit.params.r, MLE.r, 1e-3);
    within(fit.params.b, MLE.b, 1e-3);
  });

  it('the log-likelihood at the reference MLE is -9582.4256', () => {
    expect(right(bgNbdLogLikelihood(rows(), MLE))).toBeCloseTo(-9582.42556, 3);
  });
});

describe.runIf(cdnowDir !== undefined)('Gamma-Gamma on the CDNOW sample summary', () => {
  it('reproduces the published p, q, v within 1% on the 946 repeat buyers', () => {
    const rows = readCsv('cdnow_customers_summary_with_transactions.csv').map((r) => ({
      frequency: r.x!,
      monetaryValue: r.zbar!,
    }));
    const fit = right(fitGammaGamma(rows));
    expect(fit.customers).toBe(946);
    within(fit.params.p, 6.25, 0.01);
    within(fit.params.q, 3.74, 0.01);
    within(fit.params.v, 15.44, 0.01);
    // scipy reference optimum: p 6.24880314, q 3.74458839, v 15.44774627, ln L -4055.9232
    within(fit.params.p, 6.24880314, 1e-4);
    within(fit.params.v, 15.44774627, 1e-4);
    expect(fit.logLikelihood).toBeCloseTo(-4055.9232, 2);
  });
});

describe('BG/NBD predictions (references: mpmath 1.3 at 40 digits with these 8-digit MLE parameters)', () => {
  const cases: [number, number, number, number, number, number][] = [
    // t, x, t_x, T, E[Y(t) | x, t_x, T], P(alive)
    [39, 2, 30.43, 38.86, 1.2259104647004668, 0.7266091579492681], // the paper's example customer
    [39, 0, 0, 38.86, 0.19478085635769898, 1],
    [52, 7, 35.14, 38.86, 5.542614946037144, 0.8471420739850772],
    [39, 1, 1.71, 38.86, 0.20325065872990097, 0.21222742189278376],
    [520, 2, 30.43, 38.86, 7.319496626018995, 0.7266091579492681],
    [39, 20, 38, 38.86, 13.426068942992991, 0.9473661003970678],
  ];
  it.each(cases)('t=%d x=%d t_x=%d T=%d: E[Y] = %d, P(alive) = %d', (t, x, tx, T, ey, alive) => {
    const c = { frequency: x, recency: tx, T };
    within(right(conditionalExpectedPurchases(MLE, c, t)), ey, 1e-10);
    within(right(probabilityAlive(MLE, c)), alive, 1e-12);
  });

  it('the paper rounds the example customer to 1.226 with the published parameters', () => {
    const published = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    const ey = right(conditionalExpectedPurchases(published, { frequency: 2, recency: 30.43, T: 38.86 }, 39));
    expect(ey).toBeCloseTo(1.226, 3);
  });

  it.each([
    [1, 0.05318473966564196],
    [39, 1.1950163081618932],
    [78, 1.8579718118161856],
    [520, 4.968748484825639],
  ])('E[X(%d)] for a new customer = %d', (t, expected) => {
    within(right(expectedPurchases(MLE, t)), expected, 1e-10);
  });

  it('is continuous across the removable singularity at a = 1', () => {
    const c = { frequency: 3, recency: 20, T: 38 };
    const at = (a: number) => right(conditionalExpectedPurchases({ ...MLE, a }, c, 39));
    within(at(1), (at(1 - 1e-4) + at(1 + 1e-4)) / 2, 1e-6);
  });

  it('is 0 at t = 0 and grows with the horizon', () => {
    const c = { frequency: 2, recency: 30.43, T: 38.86 };
    expect(right(conditionalExpectedPurchases(MLE, c, 0))).toBe(0);
    const ys = [1, 10, 100, 1000].map((t) => right(conditionalExpectedPurchases(MLE, c, t)));
    expect(ys).toEqual([...ys].sort((p, q) => p - q));
  });
});

describe('Gamma-Gamma and discounted CLV', () => {
  const GG = { p: 6.24880314, q: 3.74458839, v: 15.44774627 };
  it('conditional expected spend is the credibility-weighted mean', () => {
    within(
      right(conditionalExpectedSpend(GG, { frequency: 2, monetaryValue: 22.35 })),
      24.658616025660514,
      1e-12,
    );
    within(
      right(conditionalExpectedSpend(GG, { frequency: 7, monetaryValue: 40 })),
      39.71489157544548,
      1e-12,
    );
    within(
      right(conditionalExpectedSpend(GG, { frequency: 0, monetaryValue: 0 })),
      35.171002599008766,
      1e-12,
    );
  });

  it('discounted CLV is the monthly sum of expected purchases × spend / (1+d)^i', () => {
    const c = { frequency: 2, recency: 30.43, T: 38.86, monetaryValue: 22.35 };
    const spend = right(conditionalExpectedSpend(GG, c));
    const k = 4.345;
    let expected = 0;
    for (let i = 1; i <= 12; i++) {
      const d =
        right(conditionalExpectedPurchases(MLE, c, i * k)) -
        right(conditionalExpectedPurchases(MLE, c, (i - 1) * k));
      expected += (spend * d) / 1.01 ** i;
    }
    const clv = right(discountedClv(MLE, GG, c, { months: 12, monthlyDiscountRate: 0.01 }));
    within(clv, expected, 1e-12);
    // Undiscounted, it is E[Y(12 months)] × spend.
    const flat = right(discountedClv(MLE, GG, c, { months: 12, monthlyDiscountRate: 0 }));
    within(flat, spend * right(conditionalExpectedPurchases(MLE, c, 12 * k)), 1e-12);
    expect(clv).toBeLessThan(flat);
  });
});

describe('errors are data', () => {
  const ok = { frequency: 1, recency: 2, T: 10 };
  it('refuses too few customers', () => {
    expect(fitBgNbd([ok, ok])).toEqual(
      E.left({ type: 'TooFewCustomers', model: 'bg-nbd', count: 2, minimum: 20 }),
    );
  });
  it('refuses data without a repeat buyer', () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ frequency: 0, recency: 0, T: 10 + i }));
    expect(fitBgNbd(rows)).toEqual(E.left({ type: 'NoRepeatBuyers', model: 'bg-nbd', customers: 30 }));
    expect(fitGammaGamma(rows.map(() => ({ frequency: 0, monetaryValue: 0 })))).toMatchObject(
      E.left({ type: 'NoRepeatBuyers', model: 'gamma-gamma' }),
    );
  });
  it.each([
    [{ frequency: 1.5, recency: 2, T: 10 }, 'frequency'],
    [{ frequency: 1, recency: Number.NaN, T: 10 }, 'recency'],
    [{ frequency: 1, recency: 2, T: Infinity }, 'T'],
    [{ frequency: 1, recency: 12, T: 10 }, 'recency'],
    [{ frequency: 0, recency: 3, T: 10 }, 'recency'],
    [{ frequency: -1, recency: 0, T: 10 }, 'frequency'],
  ])('refuses %o (field %s) and names the row', (bad, field) => {
    const rows = [...Array.from({ length: 25 }, () => ok), bad];
    expect(fitBgNbd(rows)).toMatchObject(E.left({ type: 'InvalidInput', model: 'bg-nbd', index: 25, field }));
    expect(probabilityAlive(MLE, bad)).toMatchObject(E.left({ type: 'InvalidInput', field }));
  });
  it('refuses a non-positive mean spend of a repeat buyer and a negative horizon', () => {
    expect(fitGammaGamma([{ frequency: 2, monetaryValue: -5 }])).toMatchObject(
      E.left({ type: 'InvalidInput', model: 'gamma-gamma', index: 0, field: 'monetaryValue' }),
    );
    // A prediction accepts free repeat purchases (zbar = 0): the estimate shrinks toward 0.
    const free = conditionalExpectedSpend({ p: 6, q: 4, v: 15 }, { frequency: 2, monetaryValue: 0 });
    expect(free).toEqual(E.right((6 * 15) / (12 + 4 - 1)));
    expect(conditionalExpectedPurchases(MLE, ok, -1)).toMatchObject(
      E.left({ type: 'InvalidInput', field: 't' }),
    );
  });
  it('reports an optimiser that ran out of evaluations', () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({
      frequency: i % 4,
      recency: i % 4 === 0 ? 0 : 5,
      T: 10 + i,
    }));
    expect(fitBgNbd(rows, { optimiser: { maxEvaluations: 10 } })).toMatchObject(
      E.left({ type: 'NotConverged', model: 'bg-nbd' }),
    );
  });
  it('reports a boundary optimum (NotIdentified) when the data do not identify the model', () => {
    // Every customer buys exactly at the same pace and nobody looks dead: the dropout rate runs to 0.
    const rows = Array.from({ length: 40 }, () => ({ frequency: 5, recency: 10, T: 10 }));
    expect(fitBgNbd(rows)).toMatchObject(E.left({ type: 'NotIdentified', model: 'bg-nbd' }));
  });
});
