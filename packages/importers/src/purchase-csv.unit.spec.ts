import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createPurchaseCsvParser, type PurchaseCsvOptions } from './purchase-csv.js';
import type { ImportLine, LineParser } from './result.js';

const parserOf = (o: PurchaseCsvOptions): LineParser => {
  const p = createPurchaseCsvParser(o);
  if (E.isLeft(p)) throw new Error(JSON.stringify(p.left));
  return p.right;
};
const parseAll = (parser: LineParser, text: string): ImportLine[] =>
  text.split('\n').map((line, i) => parser.parseLine(line, i + 1));

const shop: PurchaseCsvOptions = {
  source: 'shop-export',
  header: true,
  dateFormat: 'ISO',
  currency: 'EUR',
  columns: { customer: 'client', date: 'when', amount: 'total', orderId: 'order', quantity: 'items' },
};
const csv = [
  'order,client,when,total,items',
  'A-1,c-1,2024-05-01T09:30:00Z,12.99,2',
  'A-2,c-2,2024-05-02,"1,5",0',
].join('\n');

describe('createPurchaseCsvParser', () => {
  it('maps named columns to PurchaseMade events in minor units', () => {
    const [header, first] = parseAll(parserOf(shop), csv);
    expect(header).toEqual({ kind: 'skipped', lineNumber: 1, reason: 'header' });
    expect(first).toMatchObject({
      kind: 'event',
      lineNumber: 2,
      event: {
        type: 'PurchaseMade',
        schemaVersion: 1,
        customerId: 'c-1',
        occurredAt: '2024-05-01T09:30:00.000Z',
        source: 'shop-export',
        data: { orderId: 'A-1', amount: { amountMinor: 1299, currency: 'EUR' }, quantity: 2 },
      },
    });
  });

  it('reports a bad amount with its line number and keeps going', () => {
    const lines = parseAll(parserOf(shop), csv);
    expect(lines[2]).toMatchObject({ kind: 'error', lineNumber: 3 });
    expect(lines[2]?.kind === 'error' && lines[2].message).toMatch(/amount '1,5'/);
  });

  it('derives the same eventIds every time (re-import is idempotent)', () => {
    const ids = (lines: ImportLine[]) => lines.flatMap((l) => (l.kind === 'event' ? [l.event.eventId] : []));
    expect(ids(parseAll(parserOf(shop), csv))).toEqual(ids(parseAll(parserOf(shop), csv)));
    expect(ids(parseAll(parserOf({ ...shop, source: 'other' }), csv))).not.toEqual(
      ids(parseAll(parserOf(shop), csv)),
    );
  });

  it('gives identical records distinct ids by occurrence, independent of line numbers', () => {
    const opts: PurchaseCsvOptions = {
      source: 's',
      header: false,
      delimiter: '\t',
      dateFormat: 'YYYY-MM-DD',
      currency: 'USD',
      columns: { customer: 1, date: 2, amount: 3 },
    };
    const a = parseAll(parserOf(opts), 'c-1\t2024-01-01\t5\nc-1\t2024-01-01\t5\nc-2\t2024-01-01\t5');
    const b = parseAll(parserOf(opts), '\nc-2\t2024-01-01\t5\nc-1\t2024-01-01\t5\nc-1\t2024-01-01\t5');
    const ids = (lines: ImportLine[]) =>
      lines.flatMap((l) => (l.kind === 'event' ? [l.event.eventId] : [])).sort();
    expect(new Set(ids(a)).size).toBe(3);
    expect(ids(a)).toEqual(ids(b));
    const first = a[0];
    expect(first?.kind === 'event' && first.event.data).toEqual({
      orderId: first?.kind === 'event' ? first.event.eventId : '',
      amount: { amountMinor: 500, currency: 'USD' },
    });
  });

  it('names a missing header column', () => {
    const [header, next] = parseAll(
      parserOf({ ...shop, columns: { ...shop.columns, customer: 'customer' } }),
      csv,
    );
    expect(header).toMatchObject({ kind: 'error', lineNumber: 1 });
    expect(header?.kind === 'error' && header.message).toMatch(/'customer'/);
    expect(next?.kind).toBe('error');
  });

  it('reports a short line and an invalid customer id', () => {
    const p = parserOf({
      source: 's',
      header: false,
      currency: 'USD',
      columns: { customer: 1, date: 2, amount: 3 },
    });
    expect(p.parseLine('c-1,2024-01-01', 4)).toMatchObject({ kind: 'error', lineNumber: 4 });
    const bad = p.parseLine('bad id!,2024-01-01,3', 5);
    expect(bad).toMatchObject({ kind: 'error', lineNumber: 5 });
    expect(bad.kind === 'error' && bad.issues?.[0]?.path).toEqual(['customerId']);
  });

  it('rejects impossible options as data', () => {
    const r = createPurchaseCsvParser({
      source: 's',
      header: false,
      columns: { customer: 'id', date: 2, amount: 3 },
    });
    expect(E.isLeft(r)).toBe(true);
    const r2 = createPurchaseCsvParser({
      source: 's',
      currency: 'XXX' as 'USD',
      columns: { customer: 1, date: 2, amount: 3 },
    });
    expect(E.isLeft(r2) && r2.left[0]?.path).toEqual(['currency']);
  });

  it('never guesses a currency: no --currency and no currency column is refused, naming both flags', () => {
    const r = createPurchaseCsvParser({
      source: 's',
      header: false,
      columns: { customer: 1, date: 2, amount: 3 },
    });
    expect(E.isLeft(r) && r.left[0]).toMatchObject({ path: ['currency'] });
    expect(E.isLeft(r) && r.left[0]?.message).toMatch(/--currency <ISO 4217 code>.*--currency-column/);
    // A currency column with an empty cell and no --currency: that line is an error, not USD.
    const p = parserOf({
      source: 's',
      header: false,
      columns: { customer: 1, date: 2, amount: 3, currency: 4 },
    });
    expect(p.parseLine('c-1,2024-01-01,3.50,EUR', 1)).toMatchObject({ kind: 'event' });
    expect(p.parseLine('c-1,2024-01-02,3.50,', 2)).toMatchObject({
      kind: 'error',
      message: expect.stringMatching(/missing currency/) as unknown,
    });
  });

  it('records the import id on every event and derives different ids for another import of the same lines', () => {
    const line = 'c-1,2024-01-01,3.50';
    const base = {
      source: 's',
      header: false,
      currency: 'USD',
      columns: { customer: 1, date: 2, amount: 3 },
    } as const;
    const a = parserOf({ ...base, importId: 'imp-a' }).parseLine(line, 1);
    const again = parserOf({ ...base, importId: 'imp-a' }).parseLine(line, 1);
    const b = parserOf({ ...base, importId: 'imp-b' }).parseLine(line, 1);
    expect(a.kind === 'event' && a.event.importId).toBe('imp-a');
    expect(a.kind === 'event' && again.kind === 'event' && a.event.eventId === again.event.eventId).toBe(
      true,
    );
    expect(a.kind === 'event' && b.kind === 'event' && a.event.eventId !== b.event.eventId).toBe(true);
  });
});
