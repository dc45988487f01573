import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHttpServer, generateApiKey, memoryApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteEventStore, type SqliteEventStore } from '@crm-ledger/sqlite';
import { registerIngestRoutes } from './routes.js';

/** ISO-8601 instants with an offset are accepted at ingest and stored in UTC (docs/ingest.md#times). */
const dir = mkdtempSync(path.join(tmpdir(), 'ingest-times-'));
let store: SqliteEventStore;
let app: HttpApp;
let key: string;

beforeAll(async () => {
  store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  const k = generateApiKey('writer', ['append'], '2024-01-01T00:00:00Z');
  key = k.key;
  app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '1' });
  registerIngestRoutes(app, {
    store,
    keys: memoryApiKeyStore([k.record]),
    limits: { bodyLimit: 1_000_000, maxEventsPerBatch: 100 },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

const purchase = {
  eventId: '7a0f7c1e-2f4d-4b8a-8c3e-9d1a2b3c4d5e',
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId: 'c-offset',
  occurredAt: '2024-05-01T11:30:00+02:00',
  data: { orderId: 'o-1', amount: { amountMinor: 1299, currency: 'EUR' } },
};

it('accepts an instant with an offset, stores it in UTC, and answers a retry as a duplicate', async () => {
  const first = await post(purchase);
  expect(first.statusCode, first.body).toBe(201);
  const stored = await store.readStream('customer-c-offset');
  expect(E.isRight(stored) && stored.right.map((s) => s.event.occurredAt)).toEqual([
    '2024-05-01T09:30:00.000Z',
  ]);
  const retry = await post(purchase);
  expect(retry.statusCode).toBe(200);
  expect(retry.json<{ duplicate: boolean }>().duplicate).toBe(true);
});

it('refuses an instant without a zone, and a bare date, with the path of the field (400, nothing written)', async () => {
  const head = await store.headPosition();
  for (const occurredAt of ['2024-05-01T11:30:00', '2024-05-01']) {
    const res = await post({ ...purchase, eventId: '7a0f7c1e-2f4d-4b8a-8c3e-9d1a2b3c4d5f', occurredAt });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { issues: { path: unknown[] }[] } }>().error.issues[0]!.path).toEqual([
      'occurredAt',
    ]);
  }
  expect(await store.headPosition()).toBe(head);
});
