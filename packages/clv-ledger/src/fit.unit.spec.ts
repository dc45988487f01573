import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { sampleGamma, seededUniform, simulateBgNbd } from '@crm-ledger/clv';
import type { LedgerEvent } from '@crm-ledger/events';
import { fitClvModels } from './fit.js';
import { addToTally, newTally } from './purchase-days.js';
import { scoreCustomer } from './score.js';

let n = 0;
const purchase = (
  customerId: string,
  occurredAt: string,
  amountMinor: number,
  currency = 'USD',
): LedgerEvent =>
  ({
    eventId: `00000000-0000-4000-8000-${(++n).toString().padStart(12, '0')}`,
    type: 'PurchaseMade',
    schemaVersion: 1,
    customerId,
    occurredAt,
    data: { orderId: `o${n}`, amount: { amountMinor, currency } },
  }) as LedgerEvent;

const END = '1997-09-30';

describe('purchase days from PurchaseMade events', () => {
  it('sums same-day orders, leaves out the holdout period and other currencies, ignores other events', () => {
    const t = newTally();
    for (const e of [
      purchase('c1', '1997-01-01T10:00:00Z', 1000),
      purchase('c1', '1997-01-01T18:00:00Z', 500),
      purchase('c1', '1997-09-30T23:59:59Z', 700),
      purchase('c1', '1997-10-01T00:00:00Z', 900),
      purchase('c2', '1997-02-01T00:00:00Z', 100, 'EUR'),
      {
        ...purchase('c3', '1997-02-01T00:00:00Z', 1),
        type: 'CustomerErased',
        data: {},
      } as unknown as LedgerEvent,
    ])
      addToTally(t, e, END, 'USD');
    expect([...t.byCustomer]).toEqual([['c1', { '1997-01-01': 1500, '1997-09-30': 700 }]]);
    expect({ purchases: t.purchases, afterWindow: t.afterWindow, otherCurrency: t.otherCurrency }).toEqual({
      purchases: 3,
      afterWindow: 1,
      otherCurrency: 1,
    });
  });
});

describe('fit records and scores', () => {
  it('fits simulated purchase histories and scores a customer', () => {
    // 3,000 customers drawn from BG/NBD, turned into purchase days at 1-day resolution; each customer has
    // spend per order drawn from Gamma-Gamma (p 6, q 4, v 15: a mean order of $30).
    const rows = simulateBgNbd({ r: 0.5, alpha: 5, a: 0.8, b: 2.5 }, 3000, (_, u) => 26 + 13 * u(), 9);
    const u = seededUniform(11);
    const t = newTally();
    const endMs = Date.parse(`${END}T00:00:00Z`);
    rows.forEach((r, i) => {
      const firstMs = endMs - Math.round(r.T * 7) * 86_400_000;
      const day = (weeks: number) => new Date(firstMs + Math.round(weeks * 7) * 86_400_000).toISOString();
      const nu = sampleGamma(4, u) / 15;
      const order = () => Math.max(1, Math.round((100 * sampleGamma(6, u)) / nu));
      addToTally(t, purchase(`c${i}`, day(0), order()), END, 'USD');
      // Repeat purchases spread evenly up to the recency (the fit only sees x, t_x and T).
      for (let k = 1; k <= r.frequency; k++)
        addToTally(t, purchase(`c${i}`, day((r.recency * k) / r.frequency), order()), END, 'USD');
    });
    const fit = fitClvModels(t, { observationEnd: END, currency: 'USD' }, '2026-01-01T00:00:00.000Z');
    if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
    const { record, summaries } = fit.right;
    expect(record.bgNbd.customers).toBe(summaries.size);
    expect(record.window.observationEnd).toBe(END);
    expect(record.gammaGamma.customers).toBe(record.bgNbd.repeatBuyers);
    expect(Math.abs(record.bgNbd.params.r / 0.5 - 1)).toBeLessThan(0.3);
    expect(Math.abs(record.gammaGamma.params.p / 6 - 1)).toBeLessThan(0.3);
    expect(Math.abs(record.gammaGamma.params.q / 4 - 1)).toBeLessThan(0.3);
    const heavy = [...summaries.values()].find((s) => s.frequency >= 5)!;
    const score = scoreCustomer(record, heavy);
    if (E.isLeft(score)) throw new Error(JSON.stringify(score.left));
    expect(score.right.probabilityAlive).toBeGreaterThan(0);
    expect(score.right.probabilityAlive).toBeLessThanOrEqual(1);
    expect(score.right.expectedSpend).toBeGreaterThan(5);
    expect(score.right.expectedSpend).toBeLessThan(100);
    expect(score.right.clv).toBeGreaterThan(0);
  });

  it('leaves repeat buyers whose repeat purchases were free out of the spend fit, and counts them', () => {
    const rows = simulateBgNbd({ r: 0.5, alpha: 5, a: 0.8, b: 2.5 }, 400, () => 30, 5);
    const u = seededUniform(3);
    const t = newTally();
    const endMs = Date.parse(`${END}T00:00:00Z`);
    let free = 0;
    rows.forEach((r, i) => {
      const day = (weeks: number) =>
        new Date(endMs - Math.round((30 - weeks) * 7) * 86_400_000).toISOString();
      const zero = r.frequency > 0 && i % 10 === 0;
      if (zero) free++;
      addToTally(t, purchase(`c${i}`, day(0), 1000), END, 'USD');
      for (let k = 1; k <= r.frequency; k++) {
        const amount = zero ? 0 : Math.round(100 * sampleGamma(6, u) * 5);
        addToTally(t, purchase(`c${i}`, day((r.recency * k) / r.frequency), amount), END, 'USD');
      }
    });
    const fit = fitClvModels(t, { observationEnd: END, currency: 'USD' }, 'now');
    if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
    expect(free).toBeGreaterThan(0);
    expect(fit.right.record.gammaGamma.zeroSpendRepeatBuyers).toBe(free);
    expect(fit.right.record.gammaGamma.customers).toBe(fit.right.record.bgNbd.repeatBuyers - free);
  });

  it('passes the fit errors through as data', () => {
    const t = newTally();
    addToTally(t, purchase('c1', '1997-01-01T00:00:00Z', 100), END, 'USD');
    expect(fitClvModels(t, { observationEnd: END, currency: 'USD' }, 'x')).toMatchObject(
      E.left({ type: 'TooFewCustomers', model: 'bg-nbd', count: 1 }),
    );
  });
});
