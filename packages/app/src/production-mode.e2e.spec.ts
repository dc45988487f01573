import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { HEADERS, allTopics, createKafka, readTopicsToEnd, silentLogger } from '@crm-ledger/kafka';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from './test-support/eventually.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaJars: string;
  }
}

// Production-like mode on this machine, every part a real process or server: the SQLite event store
// (EventStoreDB cannot run here), PostgreSQL read models, a real Kafka broker (infra/kafka). `crm-ledger start`
// seeds and serves; the relay publishes the log to Kafka; a reader consumes it back.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'services/cli/dist/main.js');
const RELAY = path.join(root, 'services/relay/dist/main.js');
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CUSTOMERS = 25;

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-prod-e2e-'));
const schema = `e2e_${randomBytes(5).toString('hex')}`;
const topicPrefix = `e2e-${randomBytes(4).toString('hex')}`;
let env: NodeJS.ProcessEnv;
let ledger: ChildProcess | undefined;
let url = '';
let key = '';
let seeded = 0;

function run(file: string, args: string[], extra: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [file, ...args], {
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout match of `pattern`; rejects if the process exits first. */
function waitFor(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms:\n${out}\n${err}`)), ms);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = pattern.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ${pattern}:\n${out}\n${err}`));
    });
  });
}

async function api(pathname: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: await res.json() };
}

async function checkpoints(): Promise<number[]> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    const r = await client.query<{ checkpoint: string }>(
      `SELECT checkpoint FROM "${schema}"._projections WHERE name IN ('service', 'success', 'experience', 'value') ORDER BY name`,
    );
    return r.rows.map((row) => Number(row.checkpoint));
  } catch {
    return [];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  env = {
    ...process.env,
    CRM_LEDGER_DATA_DIR: dir,
    CRM_LEDGER_PORT: '0',
    CRM_LEDGER_LOG_LEVEL: 'warn',
    CRM_LEDGER_SQLITE_SYNCHRONOUS: 'normal',
    CRM_LEDGER_EVENT_STORE: 'sqlite',
    CRM_LEDGER_READ_MODEL_STORE: 'postgres',
    CRM_LEDGER_POSTGRES_URL: POSTGRES,
    CRM_LEDGER_POSTGRES_SCHEMA: schema,
    CRM_LEDGER_KAFKA_BROKERS: inject('kafkaBrokers'),
    CRM_LEDGER_KAFKA_TOPIC_PREFIX: topicPrefix,
    CRM_LEDGER_KAFKA_PARTITIONS: '3',
  };
  ledger = run(CLI, ['start', '--seed-if-empty', '--seed-customers', String(CUSTOMERS)]);
  const listening = waitFor(ledger, /listening on (http:\/\/\S+)/, 120_000);
  const seededLine = waitFor(ledger, /seeded the empty store with (\d+) demo events/, 120_000);
  url = (await listening)[1]!;
  seeded = Number((await seededLine)[1]);
  key = readFileSync(path.join(dir, 'admin.key'), 'utf8').trim();
}, 180_000);

afterAll(async () => {
  if (ledger !== undefined && ledger.exitCode === null) {
    const exited = new Promise((r) => ledger!.once('exit', r));
    ledger.kill('SIGTERM');
    await exited;
  }
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
  await client.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('production-like mode: SQLite event store, PostgreSQL read models, real Kafka', () => {
  it('seeds, projects into PostgreSQL and serves the views from there', async () => {
    expect(seeded).toBeGreaterThan(CUSTOMERS);
    const cps = await eventually(checkpoints, (c) => c.length === 4 && c.every((p) => p === seeded), 60_000);
    expect(cps).toEqual([seeded, seeded, seeded, seeded]);
    const customers = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await api(`/v1/customers?limit=10${cursor === undefined ? '' : `&cursor=${cursor}`}`);
      expect(page.status).toBe(200);
      const body = page.body as { items: { account: { customer_id: string } }[]; nextCursor?: string };
      for (const item of body.items) customers.add(item.account.customer_id);
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    expect(customers.size).toBe(CUSTOMERS);
  });

  it('an event ingested over HTTP reaches the PostgreSQL views', async () => {
    const customerId = 'c-000001';
    const adopted = async (): Promise<number> => {
      const client = new pg.Client({ connectionString: POSTGRES });
      await client.connect();
      try {
        const r = await client.query<{ n: string }>(
          `SELECT features_adopted AS n FROM "${schema}".success_accounts WHERE customer_id = $1`,
          [customerId],
        );
        return Number(r.rows[0]!.n);
      } finally {
        await client.end();
      }
    };
    const before = await adopted();
    expect((await api(`/v1/customers/${customerId}`)).status).toBe(200);
    const posted = await api('/v1/events', {
      method: 'POST',
      body: JSON.stringify({
        eventId: randomUUID(),
        type: 'FeatureAdopted',
        schemaVersion: 1,
        customerId,
        occurredAt: '2025-01-15T10:00:00.000Z',
        data: { feature: `e2e-${randomBytes(3).toString('hex')}` },
      }),
    });
    expect(posted.status).toBe(201);
    const cps = await eventually(checkpoints, (c) => c.every((p) => p === seeded + 1), 30_000);
    expect(cps).toEqual([seeded + 1, seeded + 1, seeded + 1, seeded + 1]);
    expect(await adopted()).toBe(before + 1);
  });

  it('the relay publishes the whole log to Kafka from the shared configuration, and it is consumed back', async () => {
    const relay = run(RELAY, [], { CRM_LEDGER_RELAY_MODE: 'catch-up' });
    let stderr = '';
    relay.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((r) => relay.once('exit', r));
    expect(code, stderr).toBe(0);

    const events = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite') });
    const log: { id: string; customerId: string }[] = [];
    for await (const page of events.readAll())
      for (const s of page) log.push({ id: s.event.eventId, customerId: s.event.customerId });
    await events.close();
    expect(log.length).toBe(seeded + 1);

    const kafka = createKafka({
      brokers: [inject('kafkaBrokers')],
      clientId: 'e2e-reader',
      logger: silentLogger,
    });
    const records = await readTopicsToEnd(kafka, allTopics({ prefix: topicPrefix, layout: 'per-area' }), {
      timeoutMs: 90_000,
    });
    const ids = new Set(records.map((r) => r.headers[HEADERS.id]));
    expect(ids.size).toBe(log.length);
    for (const e of log) expect(ids.has(e.id)).toBe(true);
    for (const r of records) expect(r.key).toBe(log.find((e) => e.id === r.headers[HEADERS.id])!.customerId);
  });
});
