import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvelope } from '@crm-ledger/events';
import { ErrorBody, generateApiKey, keyFiles, type Scope } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';

/** Drives the real ingest process (services/ingest/dist/main.js) over HTTP on loopback. */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
let dir: string;
let child: ChildProcess;
let url: string;
let admin: string;
const keys: Partial<Record<'append' | 'read' | 'revoked', string>> = {};

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
const purchase = (customerId: string, amountMinor = 1299, eventId = uuid()): RawEnvelope => ({
  eventId,
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId,
  occurredAt: '2024-05-01T09:30:00Z',
  data: { orderId: `o-${eventId.slice(-4)}`, amount: { amountMinor, currency: 'EUR' } },
});

async function head(): Promise<number> {
  const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite') });
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
}

async function post(
  route: string,
  body: unknown,
  options: { key?: string | null; contentType?: string; raw?: string } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  const key = options.key === undefined ? admin : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url + route, {
    method: 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined,
    headers: res.headers,
  };
}

/** Posts, expects an error status with the stable error shape and code, and checks nothing was appended. */
async function rejected(
  status: number,
  code: string,
  route: string,
  body: unknown,
  options: Parameters<typeof post>[2] = {},
) {
  const before = await head();
  const res = await post(route, body, options);
  expect(res.status).toBe(status);
  const parsed = ErrorBody.parse(res.body);
  expect(parsed.error.code).toBe(code);
  expect(await head()).toBe(before);
  return parsed;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-ingest-e2e-'));
  child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      CRM_LEDGER_DATA_DIR: dir,
      CRM_LEDGER_PORT: '0',
      CRM_LEDGER_LOG_LEVEL: 'info',
      CRM_LEDGER_BODY_LIMIT: '64kb',
      CRM_LEDGER_MAX_EVENTS_PER_BATCH: '50',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ingest exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /"url":"([^"]+)"/.exec(line);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
  });
  admin = readFileSync(path.join(dir, 'admin.key'), 'utf8').trim();
  const store = openSqliteAuthStore(keyFiles(dir).store).keys;
  for (const [name, scopes] of [
    ['append', ['append']],
    ['read', ['read']],
    ['revoked', ['append']],
  ] as [keyof typeof keys, Scope[]][]) {
    const k = generateApiKey(name, scopes, new Date().toISOString());
    await store.add(k.record);
    keys[name] = k.key;
  }
  await store.revoke(keys.revoked!.slice(5, 17), new Date().toISOString());
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the ingest service over HTTP', () => {
  it('answers health, readiness and its OpenAPI document without a key', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await (await fetch(`${url}/ready`)).json()).toEqual({ status: 'ready' });
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/events', '/v1/customers/{customerId}/events', '/v1/events/batch']),
    );
    expect(doc.components.schemas['Event.PurchaseMade.v1']).toBeDefined();
    const batch = doc.paths['/v1/events/batch']!.post.requestBody.content['application/json']!.schema;
    expect(JSON.stringify(batch)).toContain('#/components/schemas/Event.PurchaseMade.v1');
  });

  it('appends one event (201 with its position) and sends security headers', async () => {
    const before = await head();
    const event = purchase('alice');
    const res = await post('/v1/events', event, { key: keys.append! });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      customerId: 'alice',
      streamName: 'customer-alice',
      duplicate: false,
      nextExpectedRevision: 0,
      events: [{ eventId: event.eventId, position: before + 1, revision: 0 }],
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await head()).toBe(before + 1);
  });

  it('answers a retry of the same event with 200 duplicate and writes nothing', async () => {
    const event = purchase('bob');
    expect((await post('/v1/events', event)).status).toBe(201);
    const before = await head();
    const retry = await post('/v1/events', event);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ duplicate: true });
    expect(await head()).toBe(before);
  });

  it('rejects the same eventId with other content: 409 idempotency_conflict', async () => {
    const event = purchase('carol');
    expect((await post('/v1/events', event)).status).toBe(201);
    await rejected(409, 'idempotency_conflict', '/v1/events', {
      ...event,
      data: { ...(event.data as object), orderId: 'other' },
    });
  });

  it('enforces the expected revision: 409 wrong_expected_revision', async () => {
    const first = await post('/v1/customers/dave/events', {
      events: [purchase('dave')],
      expectedRevision: 'no_stream',
    });
    expect(first.status).toBe(201);
    const e = await rejected(409, 'wrong_expected_revision', '/v1/customers/dave/events', {
      events: [purchase('dave')],
      expectedRevision: 'no_stream',
    });
    expect(e.error.message).toMatch(/revision 0/);
    const next = await post('/v1/customers/dave/events', {
      events: [purchase('dave'), purchase('dave')],
      expectedRevision: 0,
    });
    expect(next.status).toBe(201);
    expect(next.body).toMatchObject({ nextExpectedRevision: 2 });
  });

  it('rejects a customer batch with one invalid event as a whole, naming the item: 400 with zod issues', async () => {
    const bad = {
      ...purchase('erin'),
      data: { orderId: 'o-1', amount: { amountMinor: -1, currency: 'EUR' } },
    };
    const e = await rejected(400, 'invalid_request', '/v1/customers/erin/events', {
      events: [purchase('erin'), bad],
    });
    expect(e.error.issues?.[0]?.path).toEqual(['events', 1, 'data', 'amount', 'amountMinor']);
  });

  it('rejects events of another customer in a customer batch', async () => {
    const e = await rejected(400, 'invalid_request', '/v1/customers/erin/events', {
      events: [purchase('erin'), purchase('frank')],
    });
    expect(e.error.issues?.[0]).toMatchObject({
      path: ['events', 1, 'customerId'],
      code: 'customer_mismatch',
    });
  });

  it('rejects unknown fields, malformed JSON and empty batches with 400', async () => {
    await rejected(400, 'invalid_request', '/v1/events', { ...purchase('gus'), extra: true });
    await rejected(400, 'invalid_request', '/v1/events', undefined, { raw: '{"eventId": ' });
    await rejected(400, 'invalid_request', '/v1/events/batch', { events: [] });
  });

  it('bounds the body (413) and the events per request (400)', async () => {
    const big = { ...purchase('hal'), source: 'x'.repeat(100) };
    await rejected(413, 'payload_too_large', '/v1/events/batch', {
      events: Array.from({ length: 300 }, () => big),
    });
    const e = await rejected(400, 'invalid_request', '/v1/events/batch', {
      events: Array.from({ length: 51 }, () => purchase('hal')),
    });
    expect(e.error.issues?.[0]?.path).toEqual(['events']);
  });

  it('needs a key (401), a known one (403) with the append scope (403)', async () => {
    const none = await post('/v1/events', purchase('ivy'), { key: null });
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    await rejected(401, 'unauthenticated', '/v1/events', purchase('ivy'), { key: null });
    await rejected(403, 'forbidden', '/v1/events', purchase('ivy'), {
      key: 'crml_000000000000_' + 'a'.repeat(43),
    });
    await rejected(403, 'forbidden', '/v1/events', purchase('ivy'), { key: 'not-a-key' });
    await rejected(403, 'forbidden', '/v1/events', purchase('ivy'), { key: keys.revoked! });
    const e = await rejected(403, 'forbidden', '/v1/events', purchase('ivy'), { key: keys.read! });
    expect(e.error.message).toMatch(/append/);
  });

  it('accepts only JSON: 415 otherwise', async () => {
    await rejected(415, 'unsupported_media_type', '/v1/events', undefined, {
      contentType: 'text/plain',
      raw: 'hello',
    });
    await rejected(415, 'unsupported_media_type', '/v1/events', undefined, {
      contentType: 'application/xml',
      raw: '<a/>',
    });
  });

  it('appends a batch across customers atomically per customer and reports every item (207 when mixed)', async () => {
    const before = await head();
    const existing = purchase('pat');
    expect((await post('/v1/events', existing)).status).toBe(201);
    const jay = [purchase('jay'), purchase('jay')];
    const badLou = { ...purchase('lou'), data: {} };
    const items = [jay[0], purchase('kim'), badLou, jay[1], purchase('lou'), existing];
    const res = await post('/v1/events/batch', { events: items, expectedRevisions: { kim: 5 } });
    expect(res.status).toBe(207);
    const body = res.body as {
      results: { index: number; status: string; code?: string; issues?: unknown[] }[];
      counts: unknown;
    };
    expect(body.results.map((r) => r.status)).toEqual([
      'appended',
      'conflict',
      'invalid',
      'appended',
      'invalid',
      'duplicate',
    ]);
    expect(body.results[1]?.code).toBe('wrong_expected_revision');
    expect(body.results[2]?.issues).toBeDefined();
    expect(body.counts).toEqual({ appended: 2, duplicate: 1, conflict: 1, invalid: 2, unavailable: 0 });
    expect(await head()).toBe(before + 3);
  });

  it('answers 201 when a batch is written and 200 when all of it was there already', async () => {
    const items = [purchase('max'), purchase('ned'), purchase('max')];
    const first = await post('/v1/events/batch', { events: items });
    expect(first.status).toBe(201);
    const again = await post('/v1/events/batch', { events: items });
    expect(again.status).toBe(200);
    expect((again.body as { counts: { duplicate: number } }).counts.duplicate).toBe(3);
  });

  it('answers 400 when every item of a batch is invalid', async () => {
    await rejected(400, 'invalid_request', '/v1/events/batch', { events: [{}, { type: 'Nope' }] });
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
