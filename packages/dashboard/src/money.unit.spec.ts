import { CURRENCIES, minorUnitDigits } from '@crm-ledger/events';
import { describe, expect, it } from 'vitest';

interface ApiJs {
  minorDigits(currency: string): number;
  toMajor(minor: number, currency: string): number;
  sumByCurrency(rows: { minor: number; currency?: string | null }[]): Map<string, number>;
  fmt: { money(minor: number, currency?: string | null): string; moneys(m: Map<string, number>): string };
}
// The dashboard's browser module (plain JS, served as is): its money helpers need no DOM.
const api = (await import(new URL('../public/api.js', import.meta.url).href)) as ApiJs;

describe('dashboard money: each amount in its own currency and decimals', () => {
  it('knows the ISO 4217 exponent of every currency of the catalogue, as the ledger does', () => {
    for (const c of CURRENCIES) expect(api.minorDigits(c), c).toBe(minorUnitDigits(c));
  });

  it('formats minor units by exponent: JPY 0, USD 2, BHD 3 decimals, with the currency', () => {
    expect(api.fmt.money(123_456, 'JPY')).toBe('123,456 JPY');
    expect(api.fmt.money(123_456, 'USD')).toBe('1,234.56 USD');
    expect(api.fmt.money(123_456, 'BHD')).toBe('123.456 BHD');
    expect(api.fmt.money(500, null)).toBe('500 (minor units, currency unknown)');
    expect(api.toMajor(1500, 'JPY')).toBe(1500);
  });

  it('sums per currency, never across: a total of two currencies does not exist', () => {
    const sums = api.sumByCurrency([
      { minor: 1000, currency: 'EUR' },
      { minor: 5000, currency: 'JPY' },
      { minor: 250, currency: 'EUR' },
    ]);
    expect([...sums.entries()]).toEqual([
      ['EUR', 1250],
      ['JPY', 5000],
    ]);
    expect(api.fmt.moneys(sums)).toBe('12.50 EUR · 5,000 JPY');
  });
});
