import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';

/**
 * How dates are written in a source. Date-only formats mean midnight UTC of that day.
 * - `YYYYMMDD` (CDNOW), `YYYY-MM-DD`, `DD/MM/YYYY`, `MM/DD/YYYY`;
 * - `ISO`: `YYYY-MM-DD` or an ISO-8601 date-time with `Z` or an offset (converted to UTC);
 * - `unix-seconds`, `unix-millis`: epoch numbers.
 */
export const DateFormat = z.enum([
  'YYYYMMDD',
  'YYYY-MM-DD',
  'DD/MM/YYYY',
  'MM/DD/YYYY',
  'ISO',
  'unix-seconds',
  'unix-millis',
]);
export type DateFormat = z.infer<typeof DateFormat>;

const PATTERNS: Record<
  'YYYYMMDD' | 'YYYY-MM-DD' | 'DD/MM/YYYY' | 'MM/DD/YYYY',
  { re: RegExp; y: number; m: number; d: number }
> = {
  YYYYMMDD: { re: /^(\d{4})(\d{2})(\d{2})$/, y: 1, m: 2, d: 3 },
  'YYYY-MM-DD': { re: /^(\d{4})-(\d{2})-(\d{2})$/, y: 1, m: 2, d: 3 },
  'DD/MM/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, y: 3, m: 2, d: 1 },
  'MM/DD/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, y: 3, m: 1, d: 2 },
};

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function calendarDay(year: number, month: number, day: number, text: string): E.Either<string, string> {
  const t = Date.UTC(year, month - 1, day);
  const d = new Date(t);
  if (year < 1 || d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    return E.left(`date '${text}' is not a real calendar day`);
  }
  return E.right(d.toISOString().replace('.000Z', 'Z'));
}

function fromEpoch(ms: number, text: string): E.Either<string, string> {
  if (!Number.isFinite(ms) || ms < 0 || ms > 253402300799999)
    return E.left(`timestamp '${text}' is out of range`);
  return E.right(new Date(ms).toISOString());
}

/** Parses a date or date-time in the given format to an ISO-8601 UTC instant (`...Z`). */
export function parseDate(text: string, format: DateFormat): E.Either<string, string> {
  const s = text.trim();
  switch (format) {
    case 'unix-seconds':
    case 'unix-millis': {
      if (!/^\d+(\.\d+)?$/.test(s)) return E.left(`timestamp '${text}' is not a number`);
      return fromEpoch(Number(s) * (format === 'unix-seconds' ? 1000 : 1), text);
    }
    case 'ISO': {
      if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return parseDate(s, 'YYYY-MM-DD');
      if (!ISO_DATE_TIME.test(s))
        return E.left(`date '${text}' is not ISO-8601 (e.g. 2024-05-01 or 2024-05-01T09:30:00Z)`);
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) return E.left(`date '${text}' is not a real date-time`);
      return fromEpoch(ms, text);
    }
    case 'YYYYMMDD':
    case 'YYYY-MM-DD':
    case 'DD/MM/YYYY':
    case 'MM/DD/YYYY': {
      const p = PATTERNS[format];
      const m = p.re.exec(s);
      if (m === null) return E.left(`date '${text}' does not match ${format}`);
      return calendarDay(Number(m[p.y]), Number(m[p.m]), Number(m[p.d]), text);
    }
  }
}
