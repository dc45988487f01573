import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, POSTGRES } from './test-support/postgres.js';

// Issue #21: API keys shared by every process of a multi-host deployment (CRM_LEDGER_AUTH_STORE=postgres).
// Two ingest processes, each with its own data directory (two hosts), and the operator's `crm-ledger keys` on a
// third: one set of keys in one PostgreSQL schema. A key created by the CLI works in both at once; a revocation
// by the CLI is refused by both at their very next request (every authentication reads the row: no cache, so
// the bound is the time of one request, not a refresh period).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'services/cli/dist/main.js');
const INGEST = path.join(root, 'services/ingest/dist/main.js');

const base = mkdtempSync(path.join(tmpdir(), 'crm-ledger-shared-keys-'));
const hostA = path.join(base, 'host-a');
const hostB = path.join(base, 'host-b');
const operator = path.join(base, 'operator');
const schema = `privilege_auth_${randomBytes(5).toString('hex')}`;
const envOf = (dataDir: string): NodeJS.ProcessEnv => ({
  ...process.env,
  CRM_LEDGER_DATA_DIR: dataDir,
  CRM_LEDGER_PORT: '0',
  CRM_LEDGER_LOG_LEVEL: 'info',
  CRM_LEDGER_SQLITE_SYNCHRONOUS: 'normal',
  CRM_LEDGER_AUTH_STORE: 'postgres',
  CRM_LEDGER_POSTGRES_URL: POSTGRES,
  CRM_LEDGER_AUTH_STORE_SCHEMA: schema,
});
const running: ChildProcess[] = [];

function ingest(dataDir: string): Promise<string> {
  const child = spawn(process.execPath, [INGEST], { env: envOf(dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingest did not listen:\n${out}`)), 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`ingest exited ${code}:\n${out}`)));
  });
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: envOf(operator),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const REFUSED = 'refused';
/**
 * An append with a body that is not an event: 400 once the key is accepted, `refused` when the key is refused
 * as unknown, revoked or expired (403; a missing scope would say so instead).
 */
const post = async (url: string, key: string): Promise<number | typeof REFUSED> => {
  const r = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ not: 'an event' }),
  });
  const text = await r.text();
  return r.status === 403 && text.includes('unknown, revoked or expired') ? REFUSED : r.status;
};

let a = '';
let b = '';
beforeAll(async () => {
  // both hosts start at once, on an empty schema
  [a, b] = await Promise.all([ingest(hostA), ingest(hostB)]);
}, 120_000);

afterAll(async () => {
  for (const child of running)
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  await dropSchemas(schema);
  rmSync(base, { recursive: true, force: true });
});

describe('API keys in PostgreSQL, shared by two ingest processes on two hosts', () => {
  it('creates one first admin key for the deployment, not one per host', async () => {
    const admin = [hostA, hostB].filter((d) => existsSync(path.join(d, 'admin.key')));
    expect(admin).toHaveLength(1);
    const key = readFileSync(path.join(admin[0]!, 'admin.key'), 'utf8').trim();
    expect(await post(a, key)).toBe(400);
    expect(await post(b, key)).toBe(400);
    const listed = await cli(['keys', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { scopes: string[] }[]).map((k) => k.scopes)).toEqual([['admin']]);
  });

  it('a key created by the CLI works on both hosts; revoked by the CLI, both refuse it at their next request', async () => {
    const created = await cli(['keys', 'create', '--name', 'shop', '--scopes', 'append']);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    const id = /^crml_([a-f0-9]{12})_/.exec(key)![1]!;
    expect(await post(a, key)).toBe(400);
    expect(await post(b, key)).toBe(400);

    const revoked = await cli(['keys', 'revoke', id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`revoked ${id}\n`);
    // no polling: the first request after the revocation committed is refused on either host
    expect(await post(b, key)).toBe(REFUSED);
    expect(await post(a, key)).toBe(REFUSED);
    expect((await cli(['keys', 'revoke', id])).code).not.toBe(0);
  });

  it('a key rotated by the CLI with no grace ends on both hosts and its replacement works on both', async () => {
    const created = await cli(['keys', 'create', '--name', 'crm sync', '--scopes', 'append']);
    const old = created.stdout.trim();
    const id = /^crml_([a-f0-9]{12})_/.exec(old)![1]!;
    const rotated = await cli(['keys', 'rotate', id]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = rotated.stdout.trim();
    expect(await post(a, old)).toBe(REFUSED);
    expect(await post(b, old)).toBe(REFUSED);
    expect(await post(a, next)).toBe(400);
    expect(await post(b, next)).toBe(400);
  });
});
