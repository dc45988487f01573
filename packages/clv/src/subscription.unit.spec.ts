import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { kaplanMeierRetention, subscriptionClv } from './subscription.js';

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

describe('subscription CLV from MRR, margin and the retention curve', () => {
  it('sums mrr × margin × survival, paid in advance and discounted monthly', () => {
    const out = right(
      subscriptionClv({ mrr: 100, margin: 0.8, retention: [1, 0.9, 0.8], monthlyDiscountRate: 0.01 }),
    );
    expect(out.clv).toBeCloseTo(80 + 72 / 1.01 + 64 / 1.01 ** 2, 10);
    expect(out.survival).toEqual([1, 0.9, 0.8]);
  });

  it('stops at the observed curve by default and can extend it with the last monthly retention rate', () => {
    const base = { mrr: 50, margin: 1, retention: [1, 0.8], monthlyDiscountRate: 0, months: 4 };
    expect(right(subscriptionClv(base)).clv).toBeCloseTo(90, 10);
    const tail = right(subscriptionClv({ ...base, extrapolation: 'last-rate' }));
    expect(tail.survival.map((s) => Number(s.toFixed(10)))).toEqual([1, 0.8, 0.64, 0.512]);
    expect(tail.clv).toBeCloseTo(50 * (1 + 0.8 + 0.64 + 0.512), 10);
  });

  it.each([
    [{ mrr: -1 }, 'mrr'],
    [{ margin: 1.5 }, 'margin'],
    [{ retention: [1, 1.2] }, 'retention'],
    [{ retention: [1, 0.5, 0.7] }, 'retention'],
    [{ retention: [] }, 'retention'],
    [{ monthlyDiscountRate: -1 }, 'monthlyDiscountRate'],
    [{ months: 2.5 }, 'months'],
  ])('refuses %o', (patch, field) => {
    expect(subscriptionClv({ mrr: 10, margin: 0.5, retention: [1, 0.9], ...patch })).toMatchObject(
      E.left({ type: 'InvalidInput', model: 'subscription', field }),
    );
  });
});

describe('Kaplan-Meier retention of a cohort', () => {
  it('counts running subscriptions only for the months they were observed', () => {
    // 4 subscriptions: cancelled after 1 and 3 months, still running after 2 and 5 months.
    const cohort = [
      { monthsPaid: 1, cancelled: true },
      { monthsPaid: 3, cancelled: true },
      { monthsPaid: 2, cancelled: false },
      { monthsPaid: 5, cancelled: false },
    ];
    const s = right(kaplanMeierRetention(cohort, 5));
    // month 2: 1 of 4 left after month 1 -> 3/4; month 3: the running 2-month one is censored, 2 at risk, 0 left;
    // month 4: 1 of 2 left after month 3 -> 3/4 · 1/2.
    expect(s).toEqual([1, 0.75, 0.75, 0.375, 0.375]);
  });
  it('refuses an empty cohort and a tenure below one month', () => {
    expect(kaplanMeierRetention([], 3)).toMatchObject(E.left({ type: 'InvalidInput', field: 'cohort' }));
    expect(kaplanMeierRetention([{ monthsPaid: 0, cancelled: true }], 3)).toMatchObject(
      E.left({ type: 'InvalidInput', field: 'monthsPaid', index: 0 }),
    );
  });
});
