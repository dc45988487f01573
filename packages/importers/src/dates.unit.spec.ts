import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { parseDate, type DateFormat } from './dates.js';

describe('parseDate', () => {
  it.each([
    ['19970101', 'YYYYMMDD', '1997-01-01T00:00:00Z'],
    ['1998-06-30', 'YYYY-MM-DD', '1998-06-30T00:00:00Z'],
    ['31/12/1997', 'DD/MM/YYYY', '1997-12-31T00:00:00Z'],
    ['12/31/1997', 'MM/DD/YYYY', '1997-12-31T00:00:00Z'],
    ['2024-05-01', 'ISO', '2024-05-01T00:00:00Z'],
    ['2024-05-01T09:30:00Z', 'ISO', '2024-05-01T09:30:00.000Z'],
    ['2024-05-01T11:30:00+02:00', 'ISO', '2024-05-01T09:30:00.000Z'],
    ['1714555800', 'unix-seconds', '2024-05-01T09:30:00.000Z'],
    ['1714555800000', 'unix-millis', '2024-05-01T09:30:00.000Z'],
  ] as const)('%s as %s -> %s', (text, format, iso) => {
    expect(parseDate(text, format)).toEqual(E.right(iso));
  });

  it.each([
    ['19970230', 'YYYYMMDD'],
    ['1997011', 'YYYYMMDD'],
    ['2024-13-01', 'YYYY-MM-DD'],
    ['2024-05-01 09:30', 'ISO'],
    ['2024-05-01T09:30:00', 'ISO'],
    ['soon', 'unix-seconds'],
  ] as [string, DateFormat][])('rejects %s as %s', (text, format) => {
    expect(E.isLeft(parseDate(text, format))).toBe(true);
  });
});
