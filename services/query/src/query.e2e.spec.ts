import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { customerStream } from '@crm-ledger/events';
import { replay } from '@crm-ledger/projector';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { openReadModelStore } from '@crm-ledger/app';
import { generateHistory } from '@crm-ledger/synthetic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-query-e2e-'));
const schema = `query_${randomBytes(5).toString('hex')}`;
const env = {
  ...process.env,
  CRM_LEDGER_DATA_DIR: dir,
  CRM_LEDGER_PORT: '0',
  CRM_LEDGER_LOG_LEVEL: 'info',
  CRM_LEDGER_READ_MODEL_STORE: 'postgres',
  CRM_LEDGER_POSTGRES_URL: POSTGRES,
  CRM_LEDGER_POSTGRES_SCHEMA: schema,
};

function run(extra: NodeJS.ProcessEnv, args: string[] = []) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  return { child, exited, output: () => out };
}

beforeAll(async () => {
  const events = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  for (const h of generateHistory({ seed: 3, customers: 12, targetEvents: 800 })) {
    const r = await events.append(customerStream(h.customerId), h.events);
    if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
  }
  const views = await openReadModelStore({ kind: 'postgres', connectionString: POSTGRES, schema });
  await replay({ store: events, readModel: views });
  await views.close();
  await events.close();
}, 120_000);

afterAll(async () => {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
  await client.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('crm-ledger-query as its own process', () => {
  it('serves the views from PostgreSQL', async () => {
    const q = run({});
    try {
      const started = Date.now();
      let url: string | undefined;
      while (url === undefined && Date.now() - started < 30_000) {
        url = /query API listening on (http:\/\/[^;\s]+)/.exec(q.output())?.[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, q.output()).toBeDefined();
      expect(q.output()).toContain(
        `read models PostgreSQL postgres://postgres@127.0.0.1:5432/test schema ${schema}`,
      );
      const key = readFileSync(path.join(dir, 'admin.key'), 'utf8').trim();
      const res = await fetch(`${url}/v1/customers?limit=50`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: unknown[] };
      expect(body.items).toHaveLength(12);
    } finally {
      q.child.kill('SIGTERM');
      expect(await q.exited).toBe(0);
    }
  });

  it('answers --help and refuses a wrong configuration with exit 2, one line per variable', async () => {
    const help = run({}, ['--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain('CRM_LEDGER_READ_MODEL_STORE');
    const bad = run({ CRM_LEDGER_POSTGRES_URL: '', CRM_LEDGER_EVENT_STORE: 'oracle' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain(
      "CRM_LEDGER_EVENT_STORE: must be one of sqlite, eventstoredb, got 'oracle'",
    );
    expect(bad.output()).toContain(
      'CRM_LEDGER_POSTGRES_URL: is required when CRM_LEDGER_READ_MODEL_STORE=postgres',
    );
  });
});
