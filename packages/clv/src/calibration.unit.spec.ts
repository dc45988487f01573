import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { rfmFromDayRevenue, rfmFromPurchaseFacts } from './calibration.js';

const window = { observationEnd: '1997-09-30' };

describe('frequency / recency / T at the end of the calibration window', () => {
  it('follows the CDNOW convention: the first customer of the sample is (2, 30.43, 38.86) with zbar 22.35', () => {
    // CDNOW_sample customer 00004: 1997-01-01 $29.33, 1997-01-18 $29.73, 1997-08-02 $14.96, 1997-12-12 $26.48
    const days = { '1997-01-01': 2933, '1997-01-18': 2973, '1997-08-02': 1496, '1997-12-12': 2648 };
    const s = E.getOrElseW(() => undefined)(rfmFromDayRevenue(days, window))!;
    expect(s.frequency).toBe(2);
    expect(s.recency).toBeCloseTo(30.43, 2);
    expect(s.T).toBeCloseTo(38.86, 2);
    expect(s.monetaryValue / 100).toBeCloseTo(22.345, 6);
  });
  it('a one-time buyer has x = 0, recency 0 and spend 0; no purchase in the window is undefined', () => {
    expect(rfmFromDayRevenue({ '1997-03-10': 500, '1998-01-01': 700 }, window)).toEqual(
      E.right({ frequency: 0, recency: 0, T: 204 / 7, monetaryValue: 0 }),
    );
    expect(rfmFromDayRevenue({ '1997-10-01': 500 }, window)).toEqual(E.right(undefined));
  });
  it('counts in other units', () => {
    const s = rfmFromPurchaseFacts(
      { firstPurchaseDay: '2024-01-01', lastPurchaseDay: '2024-01-31', purchaseDays: 3, repeatRevenue: 90 },
      { observationEnd: '2024-03-01', daysPerUnit: 1 },
    );
    expect(s).toEqual(E.right({ frequency: 2, recency: 30, T: 60, monetaryValue: 45 }));
  });
  it.each([
    [
      { firstPurchaseDay: '1997-10-02', lastPurchaseDay: '1997-10-02', purchaseDays: 1, repeatRevenue: 0 },
      'firstPurchaseDay',
    ],
    [
      { firstPurchaseDay: '1997-05-02', lastPurchaseDay: '1997-05-01', purchaseDays: 2, repeatRevenue: 0 },
      'lastPurchaseDay',
    ],
    [
      { firstPurchaseDay: '1997-05-01', lastPurchaseDay: '1997-05-03', purchaseDays: 4, repeatRevenue: 0 },
      'purchaseDays',
    ],
    [
      { firstPurchaseDay: '1997-05-01', lastPurchaseDay: '1997-05-03', purchaseDays: 1, repeatRevenue: 0 },
      'purchaseDays',
    ],
    [
      { firstPurchaseDay: 'yesterday', lastPurchaseDay: '1997-05-03', purchaseDays: 1, repeatRevenue: 0 },
      'firstPurchaseDay',
    ],
  ])('refuses inconsistent facts %o', (facts, field) => {
    expect(rfmFromPurchaseFacts(facts, window)).toMatchObject(E.left({ type: 'InvalidInput', field }));
  });
});
