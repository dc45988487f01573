import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { Projector } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';

/** Runs the built `crm-ledger` command as a child process. */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-corrections-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000, cwd }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

/** Every view row of a ledger's events, folded by the projector into a fresh read model (anomalies without positions). */
async function views(dataDir: string): Promise<Record<string, unknown[]>> {
  const store = openSqliteEventStore({ file: path.join(dataDir, 'ledger.sqlite') });
  const readModel: ReadModelStore = openSqliteReadModel({
    file: path.join(dataDir, `views-${Date.now()}.sqlite`),
  });
  try {
    await new Projector({ store, readModel }).catchUp();
    const out: Record<string, unknown[]> = {};
    for (const name of PROJECTION_NAMES)
      for (const t of projections[name].spec.tables) {
        const text = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
        const rows = await readModel.sql({ sqlite: text, postgres: text });
        out[t.name] = t.name.endsWith('_anomalies')
          ? rows.map((r: Row) => [r['customer_id'], r['event_id'], r['reason']])
          : [...rows];
      }
    return out;
  } finally {
    await readModel.close();
    await store.close();
  }
}

/** A shop export: order numbers, and amounts in three currencies (JPY has no decimals, BHD three). */
const CSV = [
  'order_no,client,ordered_at,total,cur',
  'A-1,c-1,2024-05-01T09:30:00Z,12.99,EUR',
  'A-2,c-1,2024-05-03T10:00:00Z,12.99,EUR',
  'A-3,c-2,2024-05-04T11:00:00Z,1500,JPY',
  'A-4,c-3,2024-05-05T12:00:00Z,3.250,BHD',
  'A-5,c-2,2024-06-01T08:00:00Z,800,JPY',
].join('\n');

const mapping = ['--format', 'csv', '--customer', 'client', '--date', 'ordered_at', '--amount', 'total'];
/** The first attempt: no order id, and every amount taken as USD (the currency column forgotten). */
const wrong = [...mapping, '--currency', 'USD'];
const right = [...mapping, '--order-id', 'order_no', '--currency-column', 'cur'];

describe('corrections: import with a wrong mapping, void the import, import again correctly', () => {
  const file = path.join(root, 'orders.csv');
  writeFileSync(file, `${CSV}\n`);
  const corrected = path.join(root, 'corrected');
  const clean = path.join(root, 'clean');

  it('refuses a CSV import without a currency, naming the flags, and writes nothing', async () => {
    const r = await run(['import', file, ...mapping, '--data-dir', corrected]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--currency <ISO 4217 code>');
    expect(r.stderr).toContain('--currency-column <column>');
  });

  it('a dry run shows counts, currencies, duplicates and the first mapped events, and writes nothing', async () => {
    const r = await run(['import', file, ...right, '--dry-run', '--data-dir', corrected]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^dry run of .*orders\.csv \(import id orders\.csv-[0-9a-f]{10}\): nothing written$/m,
    );
    expect(r.stdout).toContain('lines 6, events 5, lines skipped 1 (header/blank), lines with errors 0');
    expect(r.stdout).toContain('customers 3');
    // Each currency in its own minor units: 25.98 EUR, 2300 JPY, 3.250 BHD.
    expect(r.stdout).toContain(
      'currencies: BHD 1 events, 3.250 BHD; EUR 2 events, 25.98 EUR; JPY 2 events, 2300 JPY',
    );
    expect(r.stdout).toContain('duplicates: 0 repeated in the file, 0 already in the ledger');
    expect(r.stdout).toContain('"orderId":"A-1"');
    const again = await run(['import', file, ...right, '--dry-run', '--data-dir', corrected]);
    expect(again.stdout).toContain('0 already in the ledger');
  });

  it('every view equals a ledger that only ever had the correct import, and verify passes', async () => {
    const first = await run(['import', file, ...wrong, '--data-dir', corrected]);
    expect(first.code, first.stderr).toBe(0);
    const wrongId = /import id (\S+)\)/.exec(first.stdout)?.[1];
    expect(wrongId).toMatch(/^orders\.csv-[0-9a-f]{10}$/);

    const dry = await run([
      'void',
      '--import',
      wrongId!,
      '--reason',
      'currency column forgotten',
      '--dry-run',
      '--data-dir',
      corrected,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      `dry run: would void 5 events of import ${wrongId} for 3 customers (PurchaseMade 5); 0 already voided; nothing written`,
    );
    const voided = await run([
      'void',
      '--import',
      wrongId!,
      '--reason',
      'currency column forgotten',
      '--data-dir',
      corrected,
    ]);
    expect(voided.code, voided.stderr).toBe(0);
    expect(voided.stdout).toContain(
      `voided import ${wrongId}: 5 events for 3 customers (PurchaseMade 5); 0 were already voided`,
    );
    // Voiding again writes nothing more.
    const twice = await run(['void', '--import', wrongId!, '--reason', 'again', '--data-dir', corrected]);
    expect(twice.stdout).toContain('0 events for 0 customers; 5 were already voided');

    const second = await run(['import', file, ...right, '--data-dir', corrected]);
    expect(second.code, second.stderr).toBe(0);
    const rightId = /import id (\S+)\)/.exec(second.stdout)?.[1];
    expect(rightId).not.toBe(wrongId);
    expect(second.stdout).toContain('5 events appended');

    const only = await run(['import', file, ...right, '--data-dir', clean]);
    expect(only.code, only.stderr).toBe(0);

    const a = await views(corrected);
    expect(a).toEqual(await views(clean));
    expect(
      a['value_currencies']!.map((r) => [
        (r as Row)['customer_id'],
        (r as Row)['currency'],
        (r as Row)['gross_revenue_minor'],
      ]),
    ).toEqual([
      ['c-1', 'EUR', 2598],
      ['c-2', 'JPY', 2300],
      ['c-3', 'BHD', 3250],
    ]);

    const verify = await run(['verify', '--data-dir', corrected]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 120_000);

  it('voids one event with --event and --customer: that purchase leaves the views, a second void writes nothing', async () => {
    const dir = path.join(root, 'one-event');
    expect((await run(['import', file, ...right, '--data-dir', dir])).code).toBe(0);
    const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite') });
    const stream = await store.readStream('customer-c-2');
    await store.close();
    const target = stream._tag === 'Right' ? stream.right[0]!.event : undefined;
    expect(target?.data).toMatchObject({ orderId: 'A-3' });
    const args = [
      'void',
      '--event',
      target!.eventId,
      '--customer',
      'c-2',
      '--reason',
      'test order',
      '--data-dir',
      dir,
    ];
    const dry = await run([...args, '--dry-run']);
    expect(dry.stdout).toContain(
      `would void 1 events of event ${target!.eventId} for 1 customers (PurchaseMade 1)`,
    );
    const done = await run(args);
    expect(done.code, done.stderr).toBe(0);
    expect((await run(args)).stdout).toContain('0 events for 0 customers; 1 were already voided');
    const v = await views(dir);
    const jpy = v['value_currencies']!.find((r) => (r as Row)['customer_id'] === 'c-2') as Row;
    expect(jpy['gross_revenue_minor']).toBe(800);
    const wrongCustomer = await run([
      'void',
      '--event',
      target!.eventId,
      '--customer',
      'c-1',
      '--reason',
      'x',
      '--data-dir',
      dir,
    ]);
    expect(wrongCustomer.code).toBe(1);
    expect(wrongCustomer.stderr).toContain(`no event ${target!.eventId} in the stream of customer c-1`);
  }, 120_000);

  it('refuses a void without a reason or without a target, and an unknown import, changing nothing', async () => {
    expect((await run(['void', '--import', 'nope', '--data-dir', clean])).stderr).toContain(
      '--reason <text> is required',
    );
    expect((await run(['void', '--reason', 'x', '--data-dir', clean])).code).toBe(2);
    const unknown = await run(['void', '--import', 'nope', '--reason', 'x', '--data-dir', clean]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('import nope: no event found');
  });
});

/** The words of a shell command line (double-quoted words kept whole): enough for the documented examples. */
const words = (line: string): string[] => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

describe('docs/cli.md: "Correcting an import" runs as written', () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/cli.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Correcting an import'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const commands = block.split('\n').filter((l) => l.startsWith('crm-ledger '));

  it('every command succeeds, the import ids are the ones printed, and the views hold the right currencies', async () => {
    expect(commands.length).toBe(6);
    const cwd = path.join(root, 'doc-example');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(path.join(cwd, 'orders.csv'), `${CSV}\n`);
    const printed: string[] = [];
    for (const line of commands) {
      const r = await run([...words(line).slice(1), '--data-dir', 'data'], cwd);
      expect(r.code, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
      const id = /import id (\S+)\)/.exec(r.stdout)?.[1];
      if (id !== undefined) printed.push(id);
    }
    // The id the doc voids is the one the first import printed.
    expect(commands[1]).toContain(`--import ${printed[0]} `);
    const v = await views(path.join(cwd, 'data'));
    expect(v['value_currencies']!.map((r) => (r as Row)['currency'])).toEqual(['EUR', 'JPY', 'BHD']);
  }, 120_000);
});
