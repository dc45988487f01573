import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openSqliteDigestStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { dropSchemas, POSTGRES } from './test-support/postgres.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './test-support/eventually.js';

// The standalone production topology, every service its own process as in infra/docker-compose.yml (the SQLite
// event store here: EventStoreDB cannot run on this machine), PostgreSQL read models: the ingest service takes
// events over HTTP, the projector service follows the log. Assembled by the root like `crm-ledger start`, the
// topology records the digests of the log (the notary) and fits CLV on schedule (the refit), which it did not
// while those parts lived in the CLI.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'services/cli/dist/main.js');
const INGEST = path.join(root, 'services/ingest/dist/main.js');
const PROJECTOR = path.join(root, 'services/projector/dist/main.js');

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-standalone-e2e-'));
const schema = `standalone_${randomBytes(5).toString('hex')}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CRM_LEDGER_DATA_DIR: dir,
  CRM_LEDGER_PORT: '0',
  CRM_LEDGER_LOG_LEVEL: 'info',
  CRM_LEDGER_SQLITE_SYNCHRONOUS: 'normal',
  CRM_LEDGER_EVENT_STORE: 'sqlite',
  CRM_LEDGER_READ_MODEL_STORE: 'postgres',
  CRM_LEDGER_POSTGRES_URL: POSTGRES,
  CRM_LEDGER_POSTGRES_SCHEMA: schema,
  CRM_LEDGER_DIGEST_EVERY: '500',
};
const running: ChildProcess[] = [];

/** A standalone service; resolves with its URL once it listens (its JSON log line says where). */
function service(main: string): Promise<{ url: string; log: () => string }> {
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${main} did not listen:\n${out}`)), 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ url: m[1]!, log: () => out });
      }
    });
    child.once('exit', (code) => reject(new Error(`${main} exited ${code}:\n${out}`)));
  });
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

let ingest: { url: string; log: () => string };
let projector: { url: string; log: () => string };
let key = '';

beforeAll(async () => {
  // a history a CLV fit can support (purchases of a few hundred customers), written before the services start
  const seeded = await cli(['seed', '--customers', '300']);
  expect(seeded.code, seeded.stderr).toBe(0);
  ingest = await service(INGEST);
  key = readFileSync(path.join(dir, 'admin.key'), 'utf8').trim();
}, 240_000);

afterAll(async () => {
  for (const child of running)
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  await dropSchemas(schema);
  rmSync(dir, { recursive: true, force: true });
});

describe('the standalone topology (ingest and projector services) is assembled by the root', () => {
  it('records digests of the whole log, and crm-ledger verify re-checks them', async () => {
    const posted = await fetch(`${ingest.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        eventId: randomUUID(),
        type: 'FeatureAdopted',
        schemaVersion: 1,
        customerId: 'c-000001',
        occurredAt: '2025-01-15T10:00:00.000Z',
        data: { feature: 'standalone-e2e' },
      }),
    });
    expect(posted.status).toBe(201);
    const events = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite') });
    const head = await events.headPosition();
    await events.close();

    projector = await service(PROJECTOR);
    const digests = openSqliteDigestStore(path.join(dir, 'ledger.sqlite'));
    try {
      // the notary catches up at start: a digest every 500 events, then one for the tail
      const last = await eventually(
        () => digests.last(),
        (d) => d?.position === head,
        60_000,
      );
      expect(last?.position).toBe(head);
      const all = await digests.all();
      expect(all.length).toBe(Math.ceil(head / 500));
      expect(all.map((d) => d.number)).toEqual(all.map((_, i) => i + 1));
    } finally {
      await digests.close();
    }
    const verified = await cli(['verify']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/every link and digest holds/);
    expect(verified.stdout).toContain(`${Math.ceil(head / 500)} digests`);
  }, 180_000);

  it('fits CLV at start (no fit yet) into the read models its query API serves', async () => {
    const fit = await eventually(
      async () => {
        const res = await fetch(`${projector.url}/v1/clv/fit`, {
          headers: { authorization: `Bearer ${key}` },
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      },
      (r) => r.status === 200,
      120_000,
    );
    expect(fit.status, projector.log().slice(-3000)).toBe(200);
    expect(fit.body).toMatchObject({ currency: 'USD' });
    expect(existsSync(path.join(dir, 'clv', 'latest.json'))).toBe(true);
    const client = new pg.Client({ connectionString: POSTGRES });
    await client.connect();
    try {
      const rows = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".clv_customers`);
      expect(Number(rows.rows[0]!.n)).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  }, 180_000);
});
