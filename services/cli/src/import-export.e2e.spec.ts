import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCsvRecords } from '@crm-ledger/importers';

/**
 * Issue 20: CSV imports as spreadsheets write them (csv-parse: `;`, decimal commas, DD.MM.YYYY, a BOM, quoted
 * fields over several lines), `export --format csv`, and an export that selects nothing (exit code 1, said why).
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const repo = path.resolve(import.meta.dirname, '../../..');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-import-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `data-${++dirs}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({
        code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
        stdout,
        stderr,
      });
    });
  });
}

/** The rows of a CSV export, read back with the importers' own CSV reader (a BOM dropped, CRLF, quotes). */
async function rowsOf(csv: string): Promise<Record<string, string>[]> {
  const records: string[][] = [];
  for await (const r of readCsvRecords([csv], ',')) {
    if (r.kind === 'error') throw new Error(r.message);
    records.push([...r.fields]);
  }
  const [header, ...rows] = records;
  return rows.map((fields) => Object.fromEntries(header!.map((h, i) => [h, fields[i] ?? ''])));
}

const germanFlags = [
  '--format',
  'csv',
  '--delimiter',
  'semicolon',
  '--decimal-comma',
  '--date-format',
  'DD.MM.YYYY',
  '--customer',
  'Kunde',
  '--date',
  'Datum',
  '--amount',
  'Betrag',
  '--order-id',
  'Bestellnummer',
  '--currency-column',
  'Währung',
];

describe('import of a spreadsheet CSV, export as CSV', () => {
  const dataDir = freshDir();
  const file = path.join(repo, 'examples/bestellungen.csv');

  it('imports examples/bestellungen.csv (BOM, ;, decimal commas, DD.MM.YYYY, a note over two lines), idempotently', async () => {
    const first = await run(['import', file, ...germanFlags, '--data-dir', dataDir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('7 lines, 5 events appended, 0 already present, 1 lines skipped');
    const again = await run(['import', file, ...germanFlags, '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 events appended, 5 already present');
  }, 120_000);

  it('exports the events as CSV a spreadsheet opens: BOM, CRLF, a header, amounts in major units, data as JSON', async () => {
    const r = await run(['export', '--format', 'csv', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('exported 5 events (positions 1-5)');
    expect(r.stdout.startsWith('\uFEFFposition,stream,revision,recordedAt,eventId,type,')).toBe(true);
    expect(r.stdout.split('\r\n')).toHaveLength(7); // header, 5 rows, the empty string after the last CRLF
    const rows = await rowsOf(r.stdout);
    // (an import appends each customer's records of a batch together: positions go by customer, then line)
    const byDate = [...rows].sort((a, b) => (a['occurredAt']! < b['occurredAt']! ? -1 : 1));
    expect(
      byDate.map((row) => [row['customerId'], row['occurredAt'], row['amount'], row['currency']]),
    ).toEqual([
      ['baeckerei-huber', '2024-01-15T00:00:00Z', '1299.00', 'EUR'],
      ['baeckerei-huber', '2024-02-03T00:00:00Z', '349.50', 'EUR'],
      ['uhren-meier-ag', '2024-02-10T00:00:00Z', '15800.00', 'CHF'],
      ['kaffee-koenig', '2024-02-29T00:00:00Z', '89.99', 'EUR'],
      ['uhren-meier-ag', '2024-03-01T00:00:00Z', '0.95', 'CHF'],
    ]);
    expect(JSON.parse(byDate[2]!['data']!)).toEqual({
      amount: { amountMinor: 1580000, currency: 'CHF' },
      orderId: 'B-2003',
    });
    expect(rows[0]).toMatchObject({ position: '1', type: 'PurchaseMade', schemaVersion: '1', erased: '' });
    // the same events as the NDJSON export, in the same order
    const ndjson = await run(['export', '--data-dir', dataDir]);
    const ids = ndjson.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: { eventId: string } }).event.eventId);
    expect(rows.map((row) => row['eventId'])).toEqual(ids);
  }, 120_000);

  it('writes a text a spreadsheet would run as a formula with a leading quote', async () => {
    const dir = freshDir();
    const csv = path.join(root, 'formula.csv');
    writeFileSync(csv, 'client,day,total\nc-1,2024-05-01,1.00\n');
    const imported = await run([
      'import',
      csv,
      '--format',
      'csv',
      '--customer',
      'client',
      '--date',
      'day',
      '--amount',
      'total',
      '--currency',
      'EUR',
      '--source',
      '=1+2',
      '--data-dir',
      dir,
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    const r = await run(['export', '--format', 'csv', '--data-dir', dir]);
    expect((await rowsOf(r.stdout))[0]?.['source']).toBe("'=1+2");
  }, 120_000);

  it('names the physical line a record starts on and the column of a bad value, after quoted fields over lines', async () => {
    const dir = freshDir();
    const csv = path.join(root, 'bad.csv');
    writeFileSync(
      csv,
      '\uFEFFBestellnummer;Kunde;Datum;Betrag;Währung\r\n' +
        'B-1;k-1;01.05.2024;1,00;EUR\r\n' +
        'B-2;"k-2";"02.05.2024";"2,00";"EUR"\r\n' +
        'B-3;k-3;03.05.2024;"3\r\n,00";EUR\r\n' + // a line break inside a quoted amount: refused, on line 4
        'B-4;k-4;04.05.2024;4,00;EUR\r\n',
    );
    const r = await run(['import', csv, ...germanFlags, '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${csv}:4: amount '3\r\n,00' is not a non-negative decimal number with a decimal comma`,
    );
    expect(r.stderr).toContain("(column 4 'Betrag')");
    const shifted = path.join(root, 'shifted.csv');
    writeFileSync(
      shifted,
      'order,client,note,day,total\n' +
        'A-1,c-1,"a note\nover\nthree lines",2024-05-01,1.00\n' +
        'A-2,c-2,,2024-02-30,2.00\n',
    );
    const s = await run([
      'import',
      shifted,
      '--format',
      'csv',
      '--customer',
      'client',
      '--date',
      'day',
      '--date-format',
      'YYYY-MM-DD',
      '--amount',
      'total',
      '--currency',
      'EUR',
      '--data-dir',
      dir,
    ]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`${shifted}:5: date '2024-02-30' is not a real calendar day (column 4 'day')`);
  }, 120_000);
});

describe('an export that selects nothing', () => {
  const dataDir = freshDir();

  it('says why on stderr and exits 1: an unknown customer, an empty ledger, nothing after --after, a cut', async () => {
    const empty = await run(['export', '--data-dir', dataDir]);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('no events matched: the ledger is empty; nothing exported');

    const imported = await run(['import', path.join(repo, 'examples/events.ndjson'), '--data-dir', dataDir]);
    expect(imported.code, imported.stderr).toBe(0);

    const nobody = await run(['export', '--customer', 'nobody', '--data-dir', dataDir]);
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toBe('');
    expect(nobody.stderr).toContain('no events matched: customer nobody has no stream; nothing exported');

    const after = await run(['export', '--after', '15', '--data-dir', dataDir]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(
      'no events matched: nothing was recorded after position 15 (the last is 15)',
    );

    const cut = await run([
      'export',
      '--customer',
      'shop-77',
      '--as-of',
      '2000-01-01',
      '--data-dir',
      dataDir,
    ]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain(
      'no events matched: customer shop-77 has events, none in positions 1-15, as of 2000-01-01T23:59:59.999Z',
    );

    // a CSV export of nothing still writes its header to --out, and exits 1
    const out = path.join(root, 'nothing.csv');
    const csv = await run([
      'export',
      '--format',
      'csv',
      '--customer',
      'nobody',
      '--out',
      out,
      '--data-dir',
      dataDir,
    ]);
    expect(csv.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toMatch(/^\uFEFFposition,stream,.*,data\r\n$/);

    // and a selection with events is exit code 0
    const some = await run(['export', '--customer', 'shop-77', '--data-dir', dataDir]);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout.trim().split('\n')).toHaveLength(15);
  }, 120_000);

  it('refuses an unknown --format with a usage error', async () => {
    const r = await run(['export', '--format', 'xlsx', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format');
  }, 120_000);
});
