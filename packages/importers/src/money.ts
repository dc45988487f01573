import * as E from 'fp-ts/lib/Either.js';
import { minorUnitDigits, type Money } from '@crm-ledger/events';

export { minorUnitDigits };

/** The character between the whole and the fractional part of an amount: `.` (12.34) or `,` (12,34). */
export type DecimalSeparator = '.' | ',';

const DECIMAL_POINT = /^\+?(\d+)(?:\.(\d*))?$|^\+?\.(\d+)$/;
const DECIMAL_COMMA = /^\+?(\d+)(?:,(\d*))?$|^\+?,(\d+)$/;

/**
 * Converts an amount written in major units (`"29.33"` dollars) to integer minor units (`2933` cents),
 * on the decimal string itself, never through floating point. More decimals than the currency has
 * are rounded half away from zero (`"0.125"` USD -> 13 cents, `"0.124"` -> 12). Negative amounts,
 * thousands separators and exponents are rejected. With `decimal` `,` the amount is written `12,34`
 * and a `.` is refused (it would be a thousands separator in such files: `1.234` is never read as 1234).
 */
export function majorToMinor(
  text: string,
  currency: Money['currency'],
  decimal: DecimalSeparator = '.',
): E.Either<string, number> {
  const m = (decimal === ',' ? DECIMAL_COMMA : DECIMAL_POINT).exec(text.trim());
  if (m === null) {
    return E.left(
      decimal === ','
        ? `amount '${text}' is not a non-negative decimal number with a decimal comma like 12,34 (no thousands separators)`
        : `amount '${text}' is not a non-negative decimal number like 12.34${/^\+?\d*,\d+$/.test(text.trim()) ? ' (for a decimal comma give --decimal-comma)' : ''}`,
    );
  }
  const whole = m[1] ?? '0';
  const frac = m[2] ?? m[3] ?? '';
  const digits = minorUnitDigits(currency);
  const kept = frac.slice(0, digits).padEnd(digits, '0');
  const roundUp = frac.length > digits && frac.charCodeAt(digits) >= 0x35; // next digit >= '5'
  const minor = BigInt(whole + kept) + (roundUp ? 1n : 0n);
  if (minor > 1_000_000_000_000n) return E.left(`amount '${text}' is too large`);
  return E.right(Number(minor));
}
