import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, generateApiKey, memoryApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteEventStore, type SqliteEventStore } from '@crm-ledger/sqlite';
import { registerIngestRoutes } from './routes.js';

/** A cap on events per customer stream (real SQLite file): a clear 409 at the cap, retries still duplicates. */
const dir = mkdtempSync(path.join(tmpdir(), 'ingest-cap-'));
let store: SqliteEventStore;
let app: HttpApp;
const k = generateApiKey('writer', ['append'], '2024-01-01T00:00:00Z');

beforeAll(async () => {
  store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '1' });
  registerIngestRoutes(app, {
    store,
    keys: memoryApiKeyStore([k.record]),
    limits: { maxEventsPerCustomer: 3 },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const purchase = (customerId: string) => ({
  eventId: randomUUID(),
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId,
  occurredAt: '2024-01-01T00:00:00.000Z',
  source: 'cap-spec',
  data: { orderId: `o-${randomUUID()}`, amount: { amountMinor: 100, currency: 'EUR' } },
});
const post = (url: string, payload: unknown) =>
  app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${k.key}` },
    payload: payload as object,
  });

describe('events per customer stream are capped', () => {
  it('appends up to the cap, then answers 409 stream_full naming the setting; a retry is still a duplicate', async () => {
    const first = purchase('capped');
    expect((await post('/v1/events', first)).statusCode).toBe(201);
    const two = [purchase('capped'), purchase('capped')];
    // 1 + 3 would pass the cap: refused whole
    const over = await post('/v1/customers/capped/events', { events: [...two, purchase('capped')] });
    expect(over.statusCode).toBe(409);
    expect(over.json()).toEqual({
      error: {
        code: 'stream_full',
        message: expect.stringContaining('CRM_LEDGER_MAX_EVENTS_PER_CUSTOMER') as unknown,
      },
    });
    expect((await post('/v1/customers/capped/events', { events: two })).statusCode).toBe(201);
    const full = await post('/v1/events', purchase('capped'));
    expect(full.statusCode).toBe(409);
    expect(full.json()).toMatchObject({ error: { code: 'stream_full' } });
    // retries of stored events are duplicates, at the cap too
    expect((await post('/v1/events', first)).statusCode).toBe(200);
    expect((await post('/v1/customers/capped/events', { events: two })).statusCode).toBe(200);
    // the batch route says it per item; other customers are not affected
    const batch = await post('/v1/events/batch', { events: [purchase('capped'), purchase('other')] });
    expect(batch.statusCode).toBe(207);
    expect(batch.json()).toMatchObject({
      results: [{ status: 'conflict', code: 'stream_full' }, { status: 'appended' }],
    });
    const stored = await store.readStream('customer-capped');
    expect(stored._tag === 'Right' && stored.right.length).toBe(3);
  });
});
