import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Least privilege on the real `crm-ledger start` process (docs/security.md): every /v1 route of the OpenAPI
 * document with every scope and with no key; read keys see no contact details; contact reads are logged with no
 * personal data; an append key cannot erase; `crm-ledger erase` needs an erase key.
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-security-e2e-'));
const dataDir = path.join(root, 'data');
const CUSTOMER = 'sec-customer';
const PERSON = {
  name: 'Ottoline Vantablack',
  email: 'ottoline@security-test.example',
  phone: '+44 20 7946 0001',
};

let child: ChildProcess;
let url = '';
const keys: Record<string, string> = {};
const ids: Record<string, string> = {};

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { timeout: 60_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

const ev = (type: string, data: unknown, customerId = CUSTOMER) => ({
  eventId: randomUUID(),
  type,
  schemaVersion: 1,
  customerId,
  occurredAt: '2024-03-01T10:00:00.000Z',
  source: 'security-e2e',
  data,
});
const purchase = () =>
  ev('PurchaseMade', { orderId: `o-${randomUUID()}`, amount: { amountMinor: 1000, currency: 'EUR' } });

async function call(
  method: 'GET' | 'POST',
  p: string,
  key: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: {
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? null : (JSON.parse(text) as unknown),
    headers: res.headers,
  };
}

beforeAll(async () => {
  child = spawn(process.execPath, [main, 'start', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stderr!.on('data', (b: Buffer) => logs.push(b.toString('utf8')));
  url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`start exited with ${code}: ${logs.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
  });
  keys['admin'] = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
  for (const [name, scopes] of [
    ['append', 'append'],
    ['read', 'read'],
    ['contact', 'contact'],
    ['erase', 'erase'],
    ['support', 'read,contact'],
  ] as const) {
    const r = await run(['keys', 'create', '--data-dir', dataDir, '--name', name, '--scopes', scopes]);
    expect(r.code).toBe(0);
    keys[name] = r.stdout.trim();
    ids[name] = keys[name].slice(5, 17);
  }
  const registered = await call('POST', '/v1/events', keys['append'], {
    ...ev('CustomerRegistered', { segment: 'B2C', acquisitionChannel: 'referral', ...PERSON }),
  });
  expect(registered.status).toBe(201);
  const deadline = Date.now() + 20_000;
  while ((await call('GET', `/v1/customers/${CUSTOMER}`, keys['read'])).status !== 200) {
    if (Date.now() > deadline) throw new Error('the projector did not catch up');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  rmSync(root, { recursive: true, force: true });
});

/** The scopes that open each route (besides admin). A new route fails the first spec until it is listed here. */
const REQUIRED: Record<string, readonly string[]> = {
  'POST /v1/events': ['append'],
  'POST /v1/customers/{customerId}/events': ['append'],
  'POST /v1/events/batch': ['append'],
  'GET /v1/customers/{customerId}': ['read'],
  'GET /v1/customers': ['read'],
  'GET /v1/customers/{customerId}/clv': ['read'],
  'GET /v1/customers/{customerId}/signals': ['read'],
  'GET /v1/signals': ['read'],
  'GET /v1/clv/fit': ['read'],
  'GET /v1/clv/status': ['read'],
  'GET /v1/aggregates/nps': ['read'],
  'GET /v1/aggregates/experience-trend': ['read'],
  'GET /v1/aggregates/service': ['read'],
  'GET /v1/aggregates/contact-drivers': ['read'],
  'GET /v1/aggregates/retention': ['read'],
  'GET /v1/aggregates/perception-gap': ['read'],
  'GET /v1/aggregates/pain-points': ['read'],
  'GET /v1/aggregates/channels': ['read'],
  'GET /v1/aggregates/clv': ['read'],
  'GET /v1/aggregates/accounts': ['read'],
};
const SCOPED_KEYS = ['append', 'read', 'contact', 'erase', 'support', 'admin'] as const;
const SCOPES_OF: Record<(typeof SCOPED_KEYS)[number], readonly string[]> = {
  append: ['append'],
  read: ['read'],
  contact: ['contact'],
  erase: ['erase'],
  support: ['read', 'contact'],
  admin: ['admin'],
};

describe('scopes (crm-ledger start over HTTP)', () => {
  it('every /v1 route answers 401 without a key, 403 without its scope, and is served with it', async () => {
    const doc = (await call('GET', '/openapi.json', undefined)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes.filter((r) => r.includes(' /v1')).sort()).toEqual(Object.keys(REQUIRED).sort());
    const table: string[] = [];
    for (const [route, required] of Object.entries(REQUIRED)) {
      const [method, template] = route.split(' ') as ['GET' | 'POST', string];
      const p = template.replace('{customerId}', CUSTOMER);
      const body = () =>
        method === 'GET' ? undefined : template === '/v1/events' ? purchase() : { events: [purchase()] };
      const none = await call(method, p, undefined, body());
      expect(none.status, `${route} without a key`).toBe(401);
      expect(none.headers.get('cache-control')).toBe('no-store');
      for (const name of SCOPED_KEYS) {
        const res = await call(method, p, keys[name], body());
        const allowed = name === 'admin' || SCOPES_OF[name].some((s) => required.includes(s));
        table.push(`${route} ${name} ${res.status}`);
        // served: past the key check to the route's own answer (the CLV of a ledger never fitted is a 404)
        if (allowed)
          expect([200, 201, 404], `${route} with ${name}: ${JSON.stringify(res.body)}`).toContain(res.status);
        else expect(res.status, `${route} with ${name}`).toBe(403);
        expect(res.headers.get('cache-control'), `${route} ${name}`).toBe('no-store');
      }
    }
    expect(table.length).toBe(Object.keys(REQUIRED).length * SCOPED_KEYS.length);
  }, 60_000);

  it('a read key sees no contact details; read+contact does, and each such read is in the access log', async () => {
    const asRead = await call('GET', `/v1/customers/${CUSTOMER}`, keys['read']);
    expect(asRead.status).toBe(200);
    expect((asRead.body as { contact: unknown }).contact).toBeNull();
    const text = JSON.stringify(asRead.body);
    for (const v of Object.values(PERSON)) expect(text).not.toContain(v);
    const asOf = await call('GET', `/v1/customers/${CUSTOMER}?asOf=2030-01-01T00:00:00Z`, keys['read']);
    expect((asOf.body as { contact: unknown }).contact).toBeNull();

    const before = await run(['keys', 'access-log', '--data-dir', dataDir, '--json']);
    const logged = (JSON.parse(before.stdout) as { keyId: string }[]).length;
    const asSupport = await call('GET', `/v1/customers/${CUSTOMER}`, keys['support']);
    expect((asSupport.body as { contact: unknown }).contact).toEqual({ ...PERSON, erased: false });

    const after = await run(['keys', 'access-log', '--data-dir', dataDir, '--json', '--customer', CUSTOMER]);
    const entries = JSON.parse(after.stdout) as {
      keyId: string;
      customerId: string;
      fields: string[];
      at: string;
    }[];
    const all = JSON.parse(
      (await run(['keys', 'access-log', '--data-dir', dataDir, '--json'])).stdout,
    ) as unknown[];
    expect(all.length).toBe(logged + 1);
    expect(entries.at(-1)).toEqual({
      keyId: ids['support'],
      customerId: CUSTOMER,
      fields: ['name', 'email', 'phone'],
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });
    expect(entries.some((e) => e.keyId === ids['read'])).toBe(false);
    // the log holds no personal data
    const raw = readFileSync(path.join(dataDir, 'auth.sqlite'));
    for (const v of Object.values(PERSON)) expect(raw.includes(v)).toBe(false);
  }, 120_000);

  it('an append key cannot erase (403, nothing appended); an erase key can; the CLI needs an erase key', async () => {
    const victim = 'sec-victim';
    expect(
      (
        await call(
          'POST',
          '/v1/events',
          keys['append'],
          ev('CustomerRegistered', { segment: 'B2C', acquisitionChannel: 'referral', name: 'V' }, victim),
        )
      ).status,
    ).toBe(201);
    const erasure = () => ev('CustomerErased', { reason: 'customer_request' }, victim);
    for (const route of ['/v1/events', `/v1/customers/${victim}/events`, '/v1/events/batch']) {
      const body =
        route === '/v1/events'
          ? erasure()
          : { events: [purchase(), erasure()].map((e) => ({ ...e, customerId: victim })) };
      const res = await call('POST', route, keys['append'], body);
      expect(res.status, route).toBe(403);
      expect(JSON.stringify(res.body)).toContain("'erase' scope");
    }
    // an erase key posts erasures only
    expect(
      (await call('POST', '/v1/events', keys['erase'], { ...purchase(), customerId: victim })).status,
    ).toBe(403);
    // still not erased: a later event is accepted
    expect(
      (await call('POST', '/v1/events', keys['append'], { ...purchase(), customerId: victim })).status,
    ).toBe(201);

    // the CLI: no key, an append key -> refused (exit 2); an erase key -> erased
    const keyFile = (k: string) => {
      const f = path.join(root, `${randomUUID()}.key`);
      writeFileSync(f, k, { mode: 0o600 });
      return f;
    };
    const noKey = await run(['erase', 'sec-other', '--data-dir', dataDir], { CRM_LEDGER_API_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("'erase'");
    const appendKey = await run([
      'erase',
      'sec-other',
      '--data-dir',
      dataDir,
      '--key-file',
      keyFile(keys['append']!),
    ]);
    expect(appendKey.code).toBe(2);
    expect(appendKey.stderr).toContain("lacks the 'erase' scope");

    const erased = await call('POST', '/v1/events', keys['erase'], erasure());
    expect(erased.status).toBe(201);
    expect(
      (await call('POST', '/v1/events', keys['append'], { ...purchase(), customerId: victim })).status,
    ).toBe(410);
  });

  it('a key revoked or rotated by the CLI is refused by the running server at its next request', async () => {
    const made = await run([
      'keys',
      'create',
      '--data-dir',
      dataDir,
      '--name',
      'short-lived',
      '--scopes',
      'read',
    ]);
    const key = made.stdout.trim();
    expect((await call('GET', '/v1/customers', key)).status).toBe(200);
    const rotated = await run(['keys', 'rotate', key.slice(5, 17), '--data-dir', dataDir]);
    expect(rotated.code).toBe(0);
    const next = rotated.stdout.trim();
    expect((await call('GET', '/v1/customers', key)).status).toBe(403);
    expect((await call('GET', '/v1/customers', next)).status).toBe(200);
    expect((await run(['keys', 'revoke', next.slice(5, 17), '--data-dir', dataDir])).code).toBe(0);
    expect((await call('GET', '/v1/customers', next)).status).toBe(403);
    const listed = JSON.parse((await run(['keys', 'list', '--data-dir', dataDir, '--json'])).stdout) as {
      id: string;
      lastUsedAt?: string;
    }[];
    expect(listed.find((k) => k.id === key.slice(5, 17))?.lastUsedAt).toEqual(expect.any(String));
  }, 60_000);
});
