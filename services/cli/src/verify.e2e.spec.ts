import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_LINK, chainLink } from '@crm-ledger/core';
import { openSqliteDigestStore, openSqliteEventStore } from '@crm-ledger/sqlite';

/** Runs the built `crm-ledger` command as a child process. */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-verify-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

interface Row {
  global_position: number;
  stream_name: string;
  revision: number;
  event_id: string;
  body: string;
  hash: string;
}

const ledger = path.join(root, 'ledger');
const file = path.join(ledger, 'ledger.sqlite');
/** A copy of the seeded, notarised ledger for one test to damage. */
let copies = 0;
function copy(): { dir: string; file: string } {
  const dir = path.join(root, `copy-${++copies}`);
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, 'ledger.sqlite');
  // VACUUM INTO writes a consistent copy of the database, WAL included.
  const src = new Database(file, { readonly: true });
  src.exec(`VACUUM INTO '${target.replace(/'/g, "''")}'`);
  src.close();
  return { dir, file: target };
}

beforeAll(async () => {
  expect((await run(['seed', '--customers', '12', '--data-dir', ledger])).code).toBe(0);
  // crm-ledger start runs the notary: it catches up at once, one digest every 300 events here.
  const child = spawn(
    process.execPath,
    [main, 'start', '--port', '0', '--data-dir', ledger, '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CRM_LEDGER_DIGEST_EVERY: '300', CRM_LEDGER_CLV_REFIT_HOURS: '0' },
    },
  );
  try {
    const store = openSqliteEventStore({ file });
    const head = await store.headPosition();
    await store.close();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const digests = openSqliteDigestStore(file);
      const last = await digests.last();
      await digests.close();
      if (last?.position === head) break;
      if (Date.now() > deadline)
        throw new Error('the notary of crm-ledger start recorded no digest of the whole log');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}, 90_000);

describe('crm-ledger verify', () => {
  it('passes on the seeded ledger with the digests of the notary of crm-ledger start, and exports the latest', async () => {
    const exportFile = path.join(root, 'audit.json');
    const ok = await run(['verify', '--data-dir', ledger, '--export-digest', exportFile]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^verified: every link and digest holds: [\d,]+ events, 12 streams, \d+ digests, [\d.]+ s \([\d,]+ events\/s\)/,
    );
    const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as {
      count: number;
      chain: unknown[];
      algorithm: string;
    };
    expect(exported.algorithm).toBe('crm-ledger-chain-v1 (sha256)');
    expect(exported.chain.length).toBe(Math.ceil(exported.count / 300));
    const json = await run(['verify', '--data-dir', ledger, '--json', '--against', exportFile]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      events: number;
      digests: number;
      exportedDigests: number;
    };
    expect(report).toMatchObject({
      ok: true,
      events: exported.count,
      digests: exported.chain.length,
      exportedDigests: exported.chain.length,
    });
  });

  it('a changed byte of one event: exit 1 naming its stream, revision, position, id and both links', async () => {
    const { dir, file: damaged } = copy();
    const db = new Database(damaged);
    const row = db.prepare<[], Row>('SELECT * FROM events WHERE global_position = 321').get()!;
    db.prepare('UPDATE events SET body = ? WHERE global_position = 321').run(
      row.body.replace('"occurredAt":"2', '"occurredAt":"1'),
    );
    db.close();
    const broken = await run(['verify', '--data-dir', dir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(
      `BROKEN: stream ${row.stream_name}, revision ${row.revision}, global position 321, event ${row.event_id}`,
    );
    expect(broken.stdout).toContain(`found    ${row.hash}`);
    expect(broken.stdout).toMatch(/expected [0-9a-f]{64}/);
  });

  it('--against: a rewrite with every link and digest recomputed is caught by the exported digest', async () => {
    const exportFile = path.join(root, 'audit-before.json');
    expect((await run(['verify', '--data-dir', ledger, '--export-digest', exportFile])).code).toBe(0);
    const { dir, file: damaged } = copy();
    const db = new Database(damaged);
    const row = db.prepare<[], Row>('SELECT * FROM events WHERE global_position = 450').get()!;
    db.prepare('UPDATE events SET body = ? WHERE global_position = 450').run(
      row.body.replace('"occurredAt":"2', '"occurredAt":"1'),
    );
    let prev = GENESIS_LINK;
    for (const r of db
      .prepare<[string], Row>('SELECT * FROM events WHERE stream_name = ? ORDER BY revision')
      .all(row.stream_name)) {
      prev = chainLink(prev, r.stream_name, r.revision, r.body);
      db.prepare('UPDATE events SET hash = ? WHERE global_position = ?').run(prev, r.global_position);
    }
    db.exec('DELETE FROM ledger_digests');
    db.close();
    // The rewritten ledger passes on its own (no digest left to contradict it)...
    const fooled = await run(['verify', '--data-dir', dir]);
    expect(fooled.code).toBe(0);
    // ...but not against what the auditor kept.
    const caught = await run(['verify', '--data-dir', dir, '--against', exportFile]);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`BROKEN: digest 2 at position 600 (of the exported file ${exportFile})`);
  });

  it('a file that is not an exported digest is a usage error (exit 2) naming what is wrong', async () => {
    const bad = path.join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ algorithm: 'md5', number: 1 }));
    const r = await run(['verify', '--data-dir', ledger, '--against', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--against: ${bad} is not an exported digest`);
    expect(r.stderr).toContain('algorithm');
    expect(r.stdout).toBe('');
  });

  it('has --help with examples', async () => {
    const help = await run(['verify', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--export-digest', '--against', '--json', 'Examples:', 'Exit codes:'])
      expect(help.stdout).toContain(flag);
  });
});
