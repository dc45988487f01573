import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { majorToMinor, minorUnitDigits } from './money.js';

describe('majorToMinor', () => {
  it.each([
    ['29.33', 'USD', 2933],
    ['0.00', 'USD', 0],
    ['12', 'USD', 1200],
    ['12.5', 'USD', 1250],
    ['.5', 'EUR', 50],
    ['+3.10', 'USD', 310],
    ['0.125', 'USD', 13],
    ['0.124', 'USD', 12],
    ['0.995', 'USD', 100],
    ['1234', 'JPY', 1234],
    ['1234.5', 'JPY', 1235],
    ['1.2345', 'KWD', 1235],
    ['506.97', 'USD', 50697],
  ] as const)('%s %s -> %d minor units, exactly', (text, currency, minor) => {
    expect(majorToMinor(text, currency)).toEqual(E.right(minor));
  });

  it.each(['-1.00', '1,000.00', '12,5', '1e3', 'abc', '', '10000000001.00'])('rejects %s', (text) => {
    expect(E.isLeft(majorToMinor(text, 'USD'))).toBe(true);
  });

  it('knows the ISO 4217 exponents', () => {
    expect([minorUnitDigits('USD'), minorUnitDigits('JPY'), minorUnitDigits('BHD')]).toEqual([2, 0, 3]);
  });
});

describe('majorToMinor with a decimal comma', () => {
  it.each([
    ['29,33', 'EUR', 2933],
    ['12', 'EUR', 1200],
    [',5', 'EUR', 50],
    ['0,125', 'USD', 13],
    ['1234,5', 'JPY', 1235],
  ] as const)('%s %s -> %d minor units', (text, currency, minor) => {
    expect(majorToMinor(text, currency, ',')).toEqual(E.right(minor));
  });

  it.each(['12.34', '1.234,56', '1 234,56', '-1,00', '1e3'])(
    'rejects %s (a point is never a thousands separator)',
    (text) => {
      expect(E.isLeft(majorToMinor(text, 'EUR', ','))).toBe(true);
    },
  );

  it('names --decimal-comma when a point-decimal amount has a comma', () => {
    const r = majorToMinor('12,5', 'EUR');
    expect(E.isLeft(r) && r.left).toMatch(/--decimal-comma/);
  });
});
