import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, readCsvRecords } from './csv.js';
import { parseSource } from './lines.js';
import { createPurchaseCsvParser, type PurchaseCsvOptions } from './purchase-csv.js';
import type { ImportLine } from './result.js';

const bytesOneByOne = (text: string): Uint8Array[] =>
  Array.from(new TextEncoder().encode(text), (b) => Uint8Array.of(b));

async function importText(
  options: PurchaseCsvOptions,
  text: string,
  chunks: (t: string) => Iterable<string | Uint8Array> = (t) => [t],
): Promise<ImportLine[]> {
  const parser = createPurchaseCsvParser(options);
  if (E.isLeft(parser)) throw new Error(JSON.stringify(parser.left));
  const out: ImportLine[] = [];
  for await (const l of parseSource(chunks(text), parser.right)) out.push(l);
  return out;
}

const shop: PurchaseCsvOptions = {
  source: 'shop',
  header: true,
  dateFormat: 'ISO',
  currency: 'EUR',
  columns: { customer: 'client', date: 'when', amount: 'total', orderId: 'order' },
};

const summary = (lines: ImportLine[]) =>
  lines.map((l) =>
    l.kind === 'event'
      ? [
          l.lineNumber,
          l.event.customerId,
          (l.event.data as { amount: { amountMinor: number } }).amount.amountMinor,
        ]
      : l.kind === 'skipped'
        ? [l.lineNumber, l.reason]
        : [l.lineNumber, l.message],
  );

describe('CSV sources (csv-parse)', () => {
  it('reads quoted fields spanning lines; each record names the physical line it starts on', async () => {
    const text = [
      'order,client,note,when,total',
      'A-1,c-1,"two',
      'lines",2024-05-01,1.00',
      'A-2,c-2,"three',
      '',
      'lines, a comma and ""quotes""",2024-05-02,2.00',
      'A-3,c-3,plain,2024-05-03,3.00',
      '',
      'A-4,c-4,"last',
      'one",2024-05-04,not-money',
    ].join('\r\n');
    const lines = await importText(shop, text);
    expect(summary(lines)).toEqual([
      [1, 'header'],
      [2, 'c-1', 100],
      [4, 'c-2', 200],
      [7, 'c-3', 300],
      [8, 'blank'],
      [9, expect.stringMatching(/^amount 'not-money' is not .* \(column 5 'total'\)$/) as unknown],
    ]);
    // the same, split into one-byte chunks: line numbers and values do not depend on chunk boundaries
    expect(summary(await importText(shop, text, bytesOneByOne))).toEqual(summary(lines));
  });

  it('names the line a record with an unclosed quote starts on, and its column', async () => {
    const text = 'order,client,when,total\nA-1,c-1,2024-05-01,"1.00\nA-2,c-2,2024-05-02,2.00\n';
    const lines = await importText(shop, text);
    expect(summary(lines)).toEqual([
      [1, 'header'],
      [2, 'unterminated quoted field (column 4): its quote is never closed before the end of the file'],
    ]);
    const after = await importText(shop, 'order,client,when,total\n"A-1"x,c-1,2024-05-01,1\n');
    expect(after[1]).toMatchObject({
      kind: 'error',
      lineNumber: 2,
      message: expect.stringMatching(/after a quoted field \(column 1\)/) as unknown,
    });
  });

  it('drops a UTF-8 byte order mark: the first header name matches', async () => {
    const text = '\uFEFFclient,when,total\nc-1,2024-05-01,12.50\n';
    const lines = await importText(
      { ...shop, columns: { customer: 'client', date: 'when', amount: 'total' } },
      text,
      bytesOneByOne,
    );
    expect(summary(lines)).toEqual([
      [1, 'header'],
      [2, 'c-1', 1250],
    ]);
  });

  it('reads a ; delimited file with decimal commas and DD.MM.YYYY dates (a German spreadsheet export)', async () => {
    const text = [
      'Bestellung;Kunde;Datum;Betrag;Währung',
      'B-1;kunde-1;01.05.2024;1234,56;EUR',
      'B-2;kunde-2;"31.12.2023";"0,5";CHF',
      'B-3;kunde-3;1.2.2024;12;EUR',
      'B-4;kunde-4;30.02.2024;1,00;EUR',
      'B-5;kunde-5;02.02.2024;1.234,56;EUR',
    ].join('\n');
    const options: PurchaseCsvOptions = {
      source: 'de',
      delimiter: ';',
      decimalComma: true,
      dateFormat: 'DD.MM.YYYY',
      columns: {
        orderId: 'Bestellung',
        customer: 'Kunde',
        date: 'Datum',
        amount: 'Betrag',
        currency: 'Währung',
      },
    };
    const lines = await importText(options, text);
    expect(lines[1]).toMatchObject({
      kind: 'event',
      lineNumber: 2,
      event: {
        customerId: 'kunde-1',
        occurredAt: '2024-05-01T00:00:00Z',
        data: { orderId: 'B-1', amount: { amountMinor: 123456, currency: 'EUR' } },
      },
    });
    expect(lines[2]).toMatchObject({
      event: { occurredAt: '2023-12-31T00:00:00Z', data: { amount: { amountMinor: 50, currency: 'CHF' } } },
    });
    expect(lines[3]).toMatchObject({
      event: { occurredAt: '2024-02-01T00:00:00Z', data: { amount: { amountMinor: 1200 } } },
    });
    expect(summary(lines).slice(4)).toEqual([
      [5, "date '30.02.2024' is not a real calendar day (column 3 'Datum')"],
      [
        6,
        expect.stringMatching(
          /^amount '1\.234,56' is not .*decimal comma.* \(column 4 'Betrag'\)$/,
        ) as unknown,
      ],
    ]);
  });

  it('without --decimal-comma, a comma amount is refused and the message names the flag', async () => {
    const lines = await importText(
      { ...shop, delimiter: ';', columns: { customer: 1, date: 2, amount: 3 }, header: false },
      'c-1;2024-05-01;12,50\n',
    );
    expect(lines[0]).toMatchObject({
      kind: 'error',
      lineNumber: 1,
      message: expect.stringMatching(/--decimal-comma.*\(column 3\)/) as unknown,
    });
  });

  it('reads a tab-separated file with quoted tabs, and keeps spaces inside quotes', async () => {
    const records = [];
    for await (const r of readCsvRecords(['a\t"b\tc"\t d \n', '" e "\tf'], '\t')) records.push(r);
    expect(records).toEqual([
      { kind: 'record', lineNumber: 1, fields: ['a', 'b\tc', 'd'] },
      { kind: 'record', lineNumber: 2, fields: [' e ', 'f'] },
    ]);
  });

  it('refuses a record longer than MAX_RECORD_BYTES instead of reading the rest of the file into one field', async () => {
    function* manyLines() {
      yield 'order,client,when,total\nA-1,c-1,2024-05-01,1.00\nA-2,c-2,"2024-05-02,2.00\n';
      for (let i = 0; i < 20_000; i++) yield 'A-3,c-3,2024-05-03,3.00\n'.repeat(10);
    }
    const lines = await importText(shop, '', () => manyLines());
    expect(summary(lines)).toEqual([
      [1, 'header'],
      [2, 'c-1', 100],
      [3, `record longer than ${MAX_RECORD_BYTES} bytes (column 3) (a quote never closed?)`],
    ]);
  });

  it('passes on a read error of the source (not a CSV error)', async () => {
    async function* failing() {
      yield 'a,b\n';
      await Promise.resolve();
      throw new Error('disk gone');
    }
    const read = async () => {
      for await (const r of readCsvRecords(failing(), ',')) void r;
    };
    await expect(read()).rejects.toThrow('disk gone');
  });

  it('stops reading the source when the reader stops (the first bad record of an import)', async () => {
    let served = 0;
    function* endless() {
      for (;;) {
        served++;
        yield 'c-1,2024-05-01,1.00\n'.repeat(100);
      }
    }
    let n = 0;
    for await (const r of readCsvRecords(endless(), ',')) if (++n === 150 && r.kind === 'record') break;
    expect(n).toBe(150);
    expect(served).toBeLessThan(1000);
  });
});
