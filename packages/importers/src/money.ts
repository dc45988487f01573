import * as E from 'fp-ts/lib/Either.js';
import type { Money } from '@crm-ledger/events';

/** ISO 4217 currencies whose minor unit is not the cent (exponent 2). */
const ZERO_DECIMALS = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMALS = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

/** Digits after the decimal point of a currency's minor unit (ISO 4217 exponent): 2 for USD, 0 for JPY, 3 for KWD. */
export function minorUnitDigits(currency: Money['currency']): number {
  if (ZERO_DECIMALS.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

const DECIMAL = /^\+?(\d+)(?:\.(\d*))?$|^\+?\.(\d+)$/;

/**
 * Converts an amount written in major units (`"29.33"` dollars) to integer minor units (`2933` cents),
 * on the decimal string itself, never through floating point. More decimals than the currency has
 * are rounded half away from zero (`"0.125"` USD -> 13 cents, `"0.124"` -> 12). Negative amounts,
 * thousands separators, exponents and decimal commas are rejected.
 */
export function majorToMinor(text: string, currency: Money['currency']): E.Either<string, number> {
  const m = DECIMAL.exec(text.trim());
  if (m === null) return E.left(`amount '${text}' is not a non-negative decimal number like 12.34`);
  const whole = m[1] ?? '0';
  const frac = m[2] ?? m[3] ?? '';
  const digits = minorUnitDigits(currency);
  const kept = frac.slice(0, digits).padEnd(digits, '0');
  const roundUp = frac.length > digits && frac.charCodeAt(digits) >= 0x35; // next digit >= '5'
  const minor = BigInt(whole + kept) + (roundUp ? 1n : 0n);
  if (minor > 1_000_000_000_000n) return E.left(`amount '${text}' is too large`);
  return E.right(Number(minor));
}
