import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { minorPerMajorOf } from './fit.js';
import { summariesFromValueRows, summaryOfValueRow } from './value-view.js';

const window = { observationEnd: '1997-09-30' };

describe('CLV summary from a value-view row', () => {
  it('reads first/last purchase, purchase days and repeat revenue', () => {
    const row = {
      customer_id: '00004',
      first_purchase_at: '1997-01-01T00:00:00Z',
      last_purchase_at: '1997-08-02T00:00:00Z',
      purchase_days: 3,
      repeat_revenue_minor: 4469,
    };
    const s = summaryOfValueRow(row, window);
    expect(E.isRight(s) && s.right).toMatchObject({ frequency: 2, monetaryValue: 22.345 });
    expect(E.isRight(s) && s.right!.recency.toFixed(2)).toBe('30.43');
    expect(E.isRight(s) && s.right!.T.toFixed(2)).toBe('38.86');
  });
  it('a customer without purchases has no summary; a malformed row is an error', () => {
    expect(summaryOfValueRow({ customer_id: 'x', first_purchase_at: null }, window)).toEqual(
      E.right(undefined),
    );
    expect(
      summaryOfValueRow({ first_purchase_at: '1997-01-01T00:00:00Z', last_purchase_at: 5 }, window),
    ).toMatchObject(E.left({ type: 'InvalidInput', field: 'last_purchase_at' }));
  });
  it('spend is in major units of the fit currency by its ISO 4217 exponent (JPY has none), other currencies left out', () => {
    expect([
      minorPerMajorOf({ currency: 'JPY' }),
      minorPerMajorOf({ currency: 'USD' }),
      minorPerMajorOf({ currency: 'BHD' }),
    ]).toEqual([1, 100, 1000]);
    expect(minorPerMajorOf({ currency: 'JPY', minorPerMajor: 100 })).toBe(100);
    const row = (id: string, currency: string) => ({
      customer_id: id,
      currency,
      orders: 3,
      first_purchase_at: '1997-01-01T00:00:00Z',
      last_purchase_at: '1997-08-02T00:00:00Z',
      purchase_days: 3,
      repeat_revenue_minor: 4470,
    });
    const r = summariesFromValueRows([row('a', 'JPY'), row('a', 'EUR')], {
      observationEnd: '1997-09-30',
      currency: 'JPY',
    });
    expect(E.isRight(r) && r.right.summaries.get('a')?.monetaryValue).toBe(2235);
    expect(E.isRight(r) && r.right.data.otherCurrency).toBe(3);
  });
});
