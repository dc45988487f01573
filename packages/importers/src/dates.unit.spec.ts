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

describe('parseDate with date-fns formats', () => {
  it.each([
    ['01.05.2024', 'DD.MM.YYYY', '2024-05-01T00:00:00Z'],
    ['1.5.2024', 'DD.MM.YYYY', '2024-05-01T00:00:00Z'],
    ['29.02.2024', 'DD.MM.YYYY', '2024-02-29T00:00:00Z'],
    ['3/4/2024', 'DD/MM/YYYY', '2024-04-03T00:00:00Z'],
    ['3/4/2024', 'MM/DD/YYYY', '2024-03-04T00:00:00Z'],
  ] as const)('%s as %s -> %s', (text, format, iso) => {
    expect(parseDate(text, format)).toEqual(E.right(iso));
  });

  it.each([
    ['29.02.2023', 'DD.MM.YYYY', /not a real calendar day/],
    ['31.04.2024', 'DD.MM.YYYY', /not a real calendar day/],
    ['1.5.24', 'DD.MM.YYYY', /does not match DD\.MM\.YYYY/],
    ['2024-05-01', 'DD.MM.YYYY', /does not match/],
    ['01/05/2024', 'DD.MM.YYYY', /does not match/],
    ['13/13/2024', 'MM/DD/YYYY', /not a real calendar day/],
    ['00240101', 'YYYYMMDD', /not a real calendar day/],
  ] as [string, DateFormat, RegExp][])('rejects %s as %s', (text, format, message) => {
    const r = parseDate(text, format);
    expect(E.isLeft(r) && r.left).toMatch(message);
  });

  it('gives the same day whatever the machine time zone (date-fns parses in local time)', () => {
    const zone = process.env.TZ;
    try {
      for (const tz of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/Sao_Paulo', 'UTC']) {
        process.env.TZ = tz;
        expect(parseDate('01.05.2024', 'DD.MM.YYYY'), tz).toEqual(E.right('2024-05-01T00:00:00Z'));
        expect(parseDate('19971012', 'YYYYMMDD'), tz).toEqual(E.right('1997-10-12T00:00:00Z'));
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});
