import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { replay } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { openReadModelStore } from '@crm-ledger/app';
import { generateHistory } from '@crm-ledger/synthetic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 7: several projector processes on one PostgreSQL read model. Two real `crm-ledger-projector`
// processes over the same SQLite ledger and the same PostgreSQL schema: one runs the views, the other waits as
// a hot standby; the holder is killed (SIGKILL, mid-work) and the standby takes over from the checkpoints.
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-failover-'));
const schema = `failover_${randomBytes(5).toString('hex')}`;
const env = {
  ...process.env,
  CRM_LEDGER_DATA_DIR: dir,
  CRM_LEDGER_PORT: '0',
  CRM_LEDGER_LOG_LEVEL: 'debug',
  CRM_LEDGER_READ_MODEL_STORE: 'postgres',
  CRM_LEDGER_POSTGRES_URL: POSTGRES,
  CRM_LEDGER_POSTGRES_SCHEMA: schema,
};

interface LogLine {
  msg: string;
  running?: string[];
  standby?: string[];
  events?: number;
  position?: number;
}

function start(name: string) {
  const child: ChildProcess = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let text = '';
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    partial += b.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      text += `${p}\n`;
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const waitFor = async (what: string, ok: (l: LogLine) => boolean, ms = 60_000): Promise<LogLine> => {
    const until = Date.now() + ms;
    for (;;) {
      const found = lines.find(ok);
      if (found !== undefined) return found;
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`${name}: no '${what}' (exit ${child.exitCode}):\n${text.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, lines, waitFor, name };
}
type Proc = ReturnType<typeof start>;

const lockLines = (p: Proc): LogLine[] => p.lines.filter((l) => Array.isArray(l.running));
const batches = (p: Proc): LogLine[] => p.lines.filter((l) => l.msg === 'applied');

/** Every row of every view table, in primary-key order. */
async function dump(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out: Record<string, readonly Row[]> = {};
  for (const name of PROJECTION_NAMES)
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out[t.name] = await readModel.sql({ sqlite: sql, postgres: sql });
    }
  return out;
}

describe('two projector processes on one PostgreSQL read model', () => {
  const histories = [...generateHistory({ seed: 11, customers: 200, targetEvents: 20_000 })];
  const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  const append = async (from: number, to: number): Promise<void> => {
    for (const h of histories.slice(from, to)) {
      const r = await store.append(customerStream(h.customerId), h.events);
      if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
    }
  };
  let a: Proc;
  let b: Proc;

  beforeAll(async () => {
    await append(0, 40);
  }, 120_000);

  afterAll(async () => {
    for (const p of [a, b]) if (p !== undefined && p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all([a?.exited, b?.exited]);
    await store.close();
    const c = new pg.Client({ connectionString: POSTGRES });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one holds every view, the other waits as a standby and takes over when the holder is killed, survives losing its lock session; the rows equal a clean rebuild', async () => {
    a = start('A');
    const aLocks = await a.waitFor('A runs the views', (l) => (l.running?.length ?? 0) > 0);
    expect(aLocks.running).toEqual([...PROJECTION_NAMES]);
    await a.waitFor('A caught up', (l) => l.msg === 'applied');

    b = start('B');
    const standby = await b.waitFor('B is a standby', (l) => Array.isArray(l.running));
    expect(standby).toMatchObject({ running: [], standby: [...PROJECTION_NAMES] });
    // B retries every 2 s; give it a few rounds: it must never get a lock while A lives.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(lockLines(b).filter((l) => l.running!.length > 0)).toEqual([]);
    expect(batches(b)).toEqual([]);

    // More history while A runs; kill A while it works through it.
    const before = batches(a).length;
    await append(40, 160);
    await a.waitFor('A applies the new events', () => batches(a).length > before);
    a.child.kill('SIGKILL');
    await a.exited;
    const aLast = Math.max(...batches(a).map((l) => l.position ?? 0));
    expect(aLast).toBeLessThan(await store.headPosition()); // killed with work left

    const bLocks = await b.waitFor('B takes over', (l) => (l.running?.length ?? 0) > 0, 30_000);
    expect(bLocks.standby).toEqual([]);
    expect(bLocks.running).toEqual([...PROJECTION_NAMES]);
    let head = await store.headPosition();
    await b.waitFor('B reaches the head', () => batches(b).some((l) => l.position === head), 120_000);

    // B's lock session dies under it (as on a network blip): B stops the views, takes the locks again on a
    // new session (nobody else wants them) and goes on with what is appended meanwhile.
    const admin = new pg.Client({ connectionString: POSTGRES });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'crm-ledger projection locks'
           AND l.objid::bigint = (hashtext($1)::bigint & 4294967295)`,
        [`crm-ledger:${schema}:service`],
      );
      expect(rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    } finally {
      await admin.end();
    }
    await b.waitFor('B notices the lost locks', (l) => l.running?.length === 0 && l !== lockLines(b)[0]);
    await b.waitFor(
      'B holds the views again',
      () => lockLines(b).filter((l) => l.running!.length > 0).length >= 2,
    );
    await append(160, 200);
    head = await store.headPosition();
    await b.waitFor('B reaches the new head', () => batches(b).some((l) => l.position === head), 120_000);

    // No event applied twice: B's batches start after what A committed last (its logged batches are
    // logged after their commit; a batch A was killed in never committed, as the checkpoints show).
    const firstB = batches(b)[0]!;
    expect(aLast).toBeGreaterThan(0);
    expect(firstB.position! - firstB.events!).toBeGreaterThanOrEqual(aLast);

    // The rows equal a clean rebuild from position 0 (a double-applied event would double counters).
    const pgStore = await openReadModelStore({ kind: 'postgres', connectionString: POSTGRES, schema });
    const clean = openSqliteReadModel({ file: path.join(dir, 'clean.sqlite') });
    try {
      for (const name of PROJECTION_NAMES) expect(await pgStore.checkpoint(name)).toBe(head);
      await replay({ store, readModel: clean });
      const expected = await dump(clean);
      expect(expected['service_tickets']!.length).toBeGreaterThan(100);
      expect(await dump(pgStore)).toEqual(expected);
    } finally {
      await pgStore.close();
      await clean.close();
    }
  }, 300_000);
});
