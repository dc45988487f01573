// the function modules, not the package index: the index loads all of date-fns (~0.3 s at every CLI start)
import { isValid } from 'date-fns/isValid';
import { parse as parseWithFormat } from 'date-fns/parse';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';

/**
 * How dates are written in a source: always given (`--date-format`), never guessed from the values (03/04/2024
 * is a day in March or in April depending on who wrote it). Date-only formats mean midnight UTC of that day.
 * - `YYYYMMDD` (CDNOW), `YYYY-MM-DD`, `DD/MM/YYYY`, `MM/DD/YYYY`, `DD.MM.YYYY` (day and month may have one
 *   digit; the year has four);
 * - `ISO`: `YYYY-MM-DD` or an ISO-8601 date-time with `Z` or an offset (converted to UTC);
 * - `unix-seconds`, `unix-millis`: epoch numbers.
 */
export const DateFormat = z.enum([
  'YYYYMMDD',
  'YYYY-MM-DD',
  'DD/MM/YYYY',
  'MM/DD/YYYY',
  'DD.MM.YYYY',
  'ISO',
  'unix-seconds',
  'unix-millis',
]);
export type DateFormat = z.infer<typeof DateFormat>;

type DayFormat = 'YYYYMMDD' | 'YYYY-MM-DD' | 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'DD.MM.YYYY';

/**
 * Each day format as a date-fns pattern, which parses and checks the calendar (31.02. is refused), and the shape
 * the text must have first: date-fns reads `yyyy` from any number of digits (`1.5.24` would be the year 24).
 */
const DAY_FORMATS: Record<DayFormat, { pattern: string; shape: RegExp }> = {
  YYYYMMDD: { pattern: 'yyyyMMdd', shape: /^\d{8}$/ },
  'YYYY-MM-DD': { pattern: 'yyyy-MM-dd', shape: /^\d{4}-\d{2}-\d{2}$/ },
  'DD/MM/YYYY': { pattern: 'd/M/yyyy', shape: /^\d{1,2}\/\d{1,2}\/\d{4}$/ },
  'MM/DD/YYYY': { pattern: 'M/d/yyyy', shape: /^\d{1,2}\/\d{1,2}\/\d{4}$/ },
  'DD.MM.YYYY': { pattern: 'd.M.yyyy', shape: /^\d{1,2}\.\d{1,2}\.\d{4}$/ },
};

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A calendar day in the given format, as midnight UTC of that day. */
function calendarDay(text: string, format: DayFormat): E.Either<string, string> {
  const f = DAY_FORMATS[format];
  if (!f.shape.test(text)) return E.left(`date '${text}' does not match ${format}`);
  // date-fns parses into a local-time Date; only its calendar fields are read, so the machine's zone cannot shift the day
  const local = parseWithFormat(text, f.pattern, new Date(2000, 0, 1));
  // years before 100 are refused as before date-fns (Date.UTC read them as 19xx, which the check refused)
  if (!isValid(local) || local.getFullYear() < 100)
    return E.left(`date '${text}' is not a real calendar day`);
  const utc = new Date(0);
  utc.setUTCFullYear(local.getFullYear(), local.getMonth(), local.getDate());
  return E.right(utc.toISOString().replace('.000Z', 'Z'));
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
      if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return calendarDay(s, 'YYYY-MM-DD');
      if (!ISO_DATE_TIME.test(s))
        return E.left(`date '${text}' is not ISO-8601 (e.g. 2024-05-01 or 2024-05-01T09:30:00Z)`);
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) return E.left(`date '${text}' is not a real date-time`);
      return fromEpoch(ms, text);
    }
    default:
      return calendarDay(s, format);
  }
}
