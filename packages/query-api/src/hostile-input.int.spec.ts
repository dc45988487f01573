import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import {
  createHttpServer,
  ErrorBody,
  generateApiKey,
  memoryApiKeyStore,
  type HttpApp,
} from '@crm-ledger/http-kit';
import { Projector } from '@crm-ledger/projector';
import { openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerClvRoutes } from './clv-routes.js';
import { registerQueryRoutes } from './routes.js';

/**
 * Hostile query strings and path parameters against every route of the query API (through `fastify.inject`: a
 * socket adds nothing for GET requests with no body), over real SQLite files. Property: the answer is 200, 400,
 * 404 or 414 (a path parameter over 100 characters), never a 5xx, and every error has the stable shape (400 with the zod issues).
 */
const dir = mkdtempSync(path.join(tmpdir(), 'query-hostile-'));
let app: HttpApp;
let readModel: SqliteReadModel;
let store: ReturnType<typeof openSqliteEventStore>;
let key: string;

beforeAll(async () => {
  store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  for (const h of generateHistory({ seed: 5, customers: 8, targetEvents: 600 }))
    await store.append(customerStream(h.customerId), h.events);
  readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
  await new Projector({ store, readModel }).catchUp();
  const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
  key = read.key;
  const keys = memoryApiKeyStore([read.record]);
  app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
  registerQueryRoutes(app, { store, readModel, keys, clock: fixedClock('2026-01-01T00:00:00Z') });
  registerClvRoutes(app, { readModel, keys });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await readModel.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ROUTES = [
  '/v1/customers/c-000001',
  '/v1/customers',
  '/v1/aggregates/nps',
  '/v1/aggregates/service',
  '/v1/aggregates/contact-drivers',
  '/v1/aggregates/retention',
  '/v1/aggregates/perception-gap',
  '/v1/aggregates/pain-points',
  '/v1/aggregates/channels',
  '/v1/aggregates/clv',
  '/v1/clv/fit',
  '/v1/clv/status',
  '/v1/aggregates/accounts',
  '/v1/customers/c-000001/clv',
  '/v1/customers/c-000001/signals',
  '/v1/signals',
];
const PARAMS = [
  'asOf',
  'asOfPosition',
  'timeline',
  'segment',
  'healthBand',
  'churnRisk',
  'silentDays',
  'renewalWithinDays',
  'sort',
  'direction',
  'limit',
  'cursor',
  'from',
  'to',
  'by',
  'months',
  'channel',
  'status',
  'type',
  'asKnownAt',
  'customerId',
  'since',
  'until',
  '__proto__',
  'constructor',
  'toString',
];
const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    '1e308',
    '-0',
    'NaN',
    'Infinity',
    '9007199254740993',
    '-1',
    '0x10',
    '1.5',
    '\u0000',
    '\ud800',
    '\u202e',
    'e\u0301',
    '\ud83d\ude00'.repeat(100),
    'x'.repeat(3000),
    '2024-02-30',
    '2024-02-30T00:00:00Z',
    '9999-12-31T23:59:59Z',
    "' OR 1=1 --",
    '"; DROP TABLE success_accounts; --',
    '../../etc/passwd',
    'eyJ9',
    Buffer.from('{"k":"zzz","v":1e308}').toString('base64url'),
    Buffer.from('[1,2,3]').toString('base64url'),
    Buffer.from('null').toString('base64url'),
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ maxLength: 60 }),
  fc.base64String({ maxLength: 80 }),
  fc.double().map(String),
  fc.bigInt().map(String),
);

/** Percent-encodes like encodeURIComponent; a lone surrogate becomes its (invalid) CESU-8 bytes. */
const enc = (s: string): string =>
  [...s]
    .map((c) => {
      try {
        return encodeURIComponent(c);
      } catch {
        return '%ED%A0%80';
      }
    })
    .join('');

async function expectHandled(url: string): Promise<void> {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
  expect([200, 400, 404, 414], `${url}: ${res.statusCode} ${res.body.slice(0, 300)}`).toContain(
    res.statusCode,
  );
  if (res.statusCode !== 200) {
    const body = ErrorBody.parse(res.json());
    if (res.statusCode === 400 || res.statusCode === 414) expect(body.error.code).toBe('invalid_request');
  }
}

describe('query API under hostile input (fast-check)', () => {
  it('hostile query strings on every route: 200, 400 or 404 in the stable shape, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.array(fc.tuple(fc.constantFrom(...PARAMS), hostileText), { maxLength: 4 }),
        async (route, params) => {
          const qs = params.map(([k, v]) => `${k}=${enc(v)}`).join('&');
          await expectHandled(`${route}${qs === '' ? '' : `?${qs}`}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hostile customer ids in the path: 400, 404 or 414, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, fc.boolean(), async (id, clv) => {
        await expectHandled(`/v1/customers/${enc(id)}${clv ? '/clv' : ''}`);
      }),
      { numRuns: 200 },
    );
  });

  it('tampered cursors are answered (a page, or 400), never a 5xx', async () => {
    const first = await app.inject({
      method: 'GET',
      url: '/v1/customers?limit=2',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(first.statusCode).toBe(200);
    const cursor = first.json<{ nextCursor?: string }>().nextCursor;
    expect(cursor).toBeDefined();
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: cursor!.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        async (at, ch) => {
          const bent = cursor!.slice(0, at) + ch + cursor!.slice(at + 1);
          await expectHandled(`/v1/customers?limit=2&cursor=${enc(bent)}`);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("regression: a path parameter over 100 characters got the router's own error body, not the stable shape", async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/customers/${'\ud83d\ude00'.repeat(100)}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.statusCode).toBe(414);
    expect(ErrorBody.parse(res.json()).error.code).toBe('invalid_request');
    const bad = await app.inject({
      method: 'GET',
      url: '/v1/customers/%E0%A4%A',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(ErrorBody.parse(bad.json()).error.code).toBe('invalid_request');
  });
});
