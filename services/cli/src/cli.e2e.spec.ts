import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@crm-ledger/sqlite';

/** Runs the built `crm-ledger` command as a child process. */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-cli-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `data-${++dirs}`);

const cdnowDir = [
  process.env.CRM_LEDGER_CDNOW_DIR,
  path.resolve(import.meta.dirname, '../../../../shared/data/cdnow'),
  '/work/shared/data/cdnow',
].find((d): d is string => d !== undefined && existsSync(path.join(d, 'CDNOW_sample.txt')));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

async function head(dataDir: string): Promise<number> {
  const store = openSqliteEventStore({ file: path.join(dataDir, 'ledger.sqlite') });
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
}

const line = (customer: string, date: string, amount: string) => `${customer},${date},${amount}`;

describe('crm-ledger', () => {
  it('has --help on every command', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['start', 'seed', 'import', 'keys']) expect(top.stdout).toContain(c);
    for (const args of [
      ['start', '--help'],
      ['seed', '--help'],
      ['import', '--help'],
      ['keys', '--help'],
      ['keys', 'create', '--help'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: crm-ledger/);
    }
  }, 120_000); // six process starts: about 1 s each on an idle 2-core machine, 5 s each under load 10

  it('names every wrong configuration value and exits 2', async () => {
    const r = await run(['start', '--log-level', 'loud'], {
      CRM_LEDGER_PORT: 'abc',
      CRM_LEDGER_DATA_DIR: freshDir(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("CRM_LEDGER_PORT (--port): must be a port number from 0 to 65535, got 'abc'");
    expect(r.stderr).toContain('CRM_LEDGER_LOG_LEVEL (--log-level): must be one of');
    const seed = await run(['seed', '--customers', 'zero', '--data-dir', freshDir()]);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('--customers: must be a whole number');
    const unknown = await run(['import', 'x.ndjson', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
  });

  it('seeds a deterministic history through the append path, idempotently', async () => {
    const dataDir = freshDir();
    const first = await run(['seed', '--customers', '20', '--seed', '7', '--data-dir', dataDir]);
    expect(first.code).toBe(0);
    const n = Number(/seeded 20 customers: (\d+) events appended, 0 already present/.exec(first.stdout)?.[1]);
    expect(n).toBeGreaterThan(100);
    expect(await head(dataDir)).toBe(n);
    const again = await run(['seed', '--customers', '20', '--seed', '7', '--data-dir', dataDir]);
    expect(again.stdout).toContain(`0 events appended, ${n} already present`);
    expect(await head(dataDir)).toBe(n);
    // the history ends at the end of yesterday (UTC) unless --end says otherwise: it lives in the present
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(first.stdout).toContain(`to ${yesterday}T23:59:59.999Z`);
    const otherEnd = await run([
      'seed',
      '--customers',
      '20',
      '--seed',
      '7',
      '--end',
      '2025-12-31',
      '--data-dir',
      dataDir,
    ]);
    expect(otherEnd.code).toBe(1);
    expect(otherEnd.stderr).toContain('Seed with the --end of the first run');
    expect(await head(dataDir)).toBe(n);
  }, 120_000);

  it.runIf(cdnowDir !== undefined)(
    'imports CDNOW_sample (6,919 purchases) and re-imports it idempotently',
    async () => {
      const dataDir = freshDir();
      const file = path.join(cdnowDir!, 'CDNOW_sample.txt');
      const first = await run(['import', file, '--format', 'cdnow-sample', '--data-dir', dataDir]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('6919 lines, 6919 events appended, 0 already present');
      expect(await head(dataDir)).toBe(6919);
      const again = await run(['import', file, '--format', 'cdnow-sample', '--data-dir', dataDir]);
      expect(again.stdout).toContain('6919 lines, 0 events appended, 6919 already present');
      expect(await head(dataDir)).toBe(6919);
    },
  );

  it('stops at a bad line with exit 1, naming it, and writes nothing of its batch', async () => {
    const dataDir = freshDir();
    const file = path.join(root, 'purchases.csv');
    const good = Array.from({ length: 6 }, (_, i) => line(`c-${i}`, '2024-01-0' + String(i + 1), '10.00'));
    writeFileSync(
      file,
      [
        'customer,date,amount',
        ...good.slice(0, 5),
        good[5],
        line('c-9', '2024-02-30', '1.00'),
        line('c-7', '2024-01-01', '2'),
      ].join('\n') + '\n',
    );
    const args = [
      'import',
      file,
      '--format',
      'csv',
      '--customer',
      'customer',
      '--date',
      'date',
      '--amount',
      'amount',
      '--date-format',
      'YYYY-MM-DD',
      '--currency',
      'USD',
      '--batch-size',
      '6',
      '--data-dir',
      dataDir,
    ];
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:8: date '2024-02-30' is not a real calendar day`);
    expect(r.stderr).toContain('nothing of lines 7-8 was written');
    expect(await head(dataDir)).toBe(5);
    // fixed and imported again: only what was missing is written
    writeFileSync(file, readFileSync(file, 'utf8').replace('2024-02-30', '2024-02-28'));
    const fixed = await run(args);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('3 events appended, 5 already present');
    expect(await head(dataDir)).toBe(8);
    const store = openSqliteEventStore({ file: path.join(dataDir, 'ledger.sqlite') });
    const stored = await store.readStream('customer-c-9');
    await store.close();
    expect(stored._tag === 'Right' && stored.right.map((e) => e.event)).toMatchObject([
      {
        type: 'PurchaseMade',
        customerId: 'c-9',
        occurredAt: '2024-02-28T00:00:00Z',
        source: 'purchases.csv',
        data: { amount: { amountMinor: 100, currency: 'USD' } },
      },
    ]);
  });

  it('imports NDJSON events and reports an invalid one by line', async () => {
    const dataDir = freshDir();
    const file = path.join(root, 'events.ndjson');
    const ev = (i: number, amountMinor: number) =>
      JSON.stringify({
        eventId: `00000000-0000-4000-8000-00000000000${i}`,
        type: 'PurchaseMade',
        schemaVersion: 1,
        customerId: 'acme',
        occurredAt: '2024-05-01T09:30:00Z',
        data: { orderId: `o-${i}`, amount: { amountMinor, currency: 'EUR' } },
      });
    writeFileSync(file, [ev(1, 100), '', ev(2, -5)].join('\n'));
    const bad = await run(['import', file, '--data-dir', dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/events\.ndjson:3: invalid event: data\.amount\.amountMinor/);
    writeFileSync(file, [ev(1, 100), '', ev(2, 5)].join('\n'));
    const ok = await run(['import', file, '--data-dir', dataDir]);
    expect(ok.stdout).toContain('3 lines, 2 events appended');
  });

  it('creates, lists and revokes API keys, storing only hashes', async () => {
    const dataDir = freshDir();
    const created = await run([
      'keys',
      'create',
      '--name',
      'shop',
      '--scopes',
      'append,read',
      '--data-dir',
      dataDir,
    ]);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^crml_[a-f0-9]{12}_/);
    const file = readFileSync(path.join(dataDir, 'auth.sqlite'));
    expect(file.includes(key)).toBe(false);
    expect(statSync(path.join(dataDir, 'auth.sqlite')).mode & 0o777).toBe(0o600);
    const id = key.slice(5, 17);
    expect((await run(['keys', 'list', '--data-dir', dataDir])).stdout).toMatch(
      new RegExp(`${id}\\s+append,read.*active`),
    );
    expect((await run(['keys', 'revoke', id, '--data-dir', dataDir])).code).toBe(0);
    expect((await run(['keys', 'list', '--data-dir', dataDir])).stdout).toMatch(/revoked/);
    expect(
      (await run(['keys', 'create', '--name', 'x', '--scopes', 'write', '--data-dir', dataDir])).code,
    ).toBe(2);
  });

  it('starts the ledger, seeds an empty store, writes the admin key (0600) and says where everything is', async () => {
    const dataDir = freshDir();
    const child = spawn(
      process.execPath,
      [
        main,
        'start',
        '--port',
        '0',
        '--seed-if-empty',
        '--seed-customers',
        '5',
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const banner: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`start exited with ${code}`)));
      createInterface({ input: child.stdout }).on('line', (l) => {
        banner.push(l);
        const m = /listening on (http:\/\/\S+)/.exec(l);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
    });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const text = banner.join('\n');
      expect(text).toContain(`data in ${dataDir}`);
      expect(text).toContain('admin API key written to');
      expect(text).toMatch(/seeded the empty store with \d+ demo events of 5 customers/);
      const keyFile = path.join(dataDir, 'admin.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          eventId: '00000000-0000-4000-8000-0000000000aa',
          type: 'FeatureAdopted',
          schemaVersion: 1,
          customerId: 'acme',
          occurredAt: '2024-01-01T00:00:00Z',
          data: { feature: 'reports' },
        }),
      });
      expect(res.status).toBe(201);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    const restart = spawn(
      process.execPath,
      [main, 'start', '--port', '0', '--seed-if-empty', '--data-dir', dataDir, '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const second: string[] = [];
    await new Promise<void>((resolve) => {
      createInterface({ input: restart.stdout }).on('line', (l) => {
        second.push(l);
        if (l.includes('stop with Ctrl-C')) resolve();
      });
    });
    restart.kill('SIGTERM');
    await new Promise((r) => restart.once('exit', r));
    expect(second.join('\n')).not.toContain('seeded');
    expect(second.join('\n')).toContain('API keys:');
  });
});
