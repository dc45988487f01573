import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, type Row } from '@crm-ledger/core';
import { createHttpServer, generateApiKey, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { customerIdOf, generateHistory } from '@crm-ledger/synthetic';
import { customerStream } from '@crm-ledger/events';
import { registerQueryRoutes } from './routes.js';

describe('query API over a seeded history', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'query-api-'));
  let app: HttpApp;
  let readModel: SqliteReadModel;
  let store: ReturnType<typeof openSqliteEventStore>;
  let key: string;
  let readOnlyKey: string;
  const auth = () => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite') });
    for (const h of generateHistory({ seed: 3, customers: 30, targetEvents: 3_000 }))
      await store.append(customerStream(h.customerId), h.events);
    readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
    await new Projector({ store, readModel }).catchUp();
    const keys = openSqliteAuthStore(path.join(dir, 'auth.sqlite')).keys;
    const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
    const append = generateApiKey('writer', ['append'], '2026-01-01T00:00:00Z');
    await keys.add(read.record);
    await keys.add(append.record);
    key = read.key;
    readOnlyKey = append.key;
    app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
    registerQueryRoutes(app, { store, readModel, keys, clock: fixedClock('2026-01-01T00:00:00Z') });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await readModel.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('requires a key with the read scope', async () => {
    expect((await app.inject({ url: '/v1/customers' })).statusCode).toBe(401);
    const wrong = await app.inject({
      url: '/v1/customers',
      headers: { authorization: `Bearer ${readOnlyKey}` },
    });
    expect(wrong.statusCode).toBe(403);
  });

  it('customer 360: live views equal the stream folded up to now (time travel agrees with the projector)', async () => {
    const id = customerIdOf(7);
    const live = await app.inject({ url: `/v1/customers/${id}`, headers: auth() });
    expect(live.statusCode).toBe(200);
    const folded = await app.inject({
      url: `/v1/customers/${id}?asOf=2026-01-01T00:00:00Z`,
      headers: auth(),
    });
    const a = live.json<Record<string, Record<string, unknown>>>();
    const b = folded.json<Record<string, Record<string, unknown>>>();
    expect(a['source']).toBe('live');
    expect(b['source']).toBe('folded');
    for (const view of ['service', 'success', 'experience', 'value']) expect(b[view]).toEqual(a[view]);
    expect(a['value']!['customer']).toMatchObject({ customer_id: id });
    const health = (a['success']!['health'] as { components: unknown[] } | null)?.components;
    expect(health).toHaveLength(5);
  });

  it('customer 360 as of an earlier time shows less history', async () => {
    const id = customerIdOf(7);
    const now = (await app.inject({ url: `/v1/customers/${id}?timeline=1000`, headers: auth() })).json<{
      timeline: { occurredAt: string }[];
    }>();
    const times = now.timeline.map((t) => t.occurredAt).sort();
    const middle = times[Math.floor(times.length / 2)]!;
    const past = (
      await app.inject({ url: `/v1/customers/${id}?asOf=${middle}&timeline=1000`, headers: auth() })
    ).json<{ timeline: { occurredAt: string }[] }>();
    expect(past.timeline.length).toBeLessThan(now.timeline.length);
    expect(past.timeline.every((t) => t.occurredAt <= middle)).toBe(true);
    expect((await app.inject({ url: '/v1/customers/nobody', headers: auth() })).statusCode).toBe(404);
  });

  it('lists accounts with a cursor that visits every customer once, and filters', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await app.inject({
        url: `/v1/customers?limit=7&sort=mrr_minor&direction=desc${cursor === undefined ? '' : `&cursor=${cursor}`}`,
        headers: auth(),
      });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ items: { account: Row }[]; nextCursor?: string }>();
      seen.push(...body.items.map((i) => String(i.account['customer_id'])));
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    expect(new Set(seen).size).toBe(30);
    expect(seen).toHaveLength(30);
    const b2b = (await app.inject({ url: '/v1/customers?segment=B2B&limit=500', headers: auth() })).json<{
      items: { account: Row }[];
    }>();
    expect(b2b.items.every((i) => i.account['segment'] === 'B2B')).toBe(true);
    const red = (await app.inject({ url: '/v1/customers?healthBand=red&limit=500', headers: auth() })).json<{
      items: { health: { band: string } }[];
    }>();
    expect(red.items.every((i) => i.health.band === 'red')).toBe(true);
    const silent = (
      await app.inject({ url: '/v1/customers?silentDays=30&limit=500', headers: auth() })
    ).json<{
      items: { account: Row }[];
    }>();
    expect(
      silent.items.every((i) => String(i.account['last_interaction_at']) <= '2025-12-02T00:00:00.000Z'),
    ).toBe(true);
    expect((await app.inject({ url: '/v1/customers?cursor=nonsense', headers: auth() })).statusCode).toBe(
      400,
    );
  });

  it('aggregates: NPS by month and channel adds up to the survey cells', async () => {
    const res = await app.inject({
      url: '/v1/aggregates/nps?from=2023-01-01&to=2026-01-01',
      headers: auth(),
    });
    expect(res.statusCode).toBe(200);
    const rows = res.json<{ rows: Row[] }>().rows;
    const total = rows.reduce((s, r) => s + Number(r['responses']), 0);
    const [check] = await readModel.sql({
      sqlite: "SELECT SUM(responses) AS n FROM experience_surveys WHERE kind = 'NPS'",
      postgres: '',
    });
    expect(total).toBe(check!['n']);
    for (const r of rows)
      expect(r['nps']).toBeCloseTo(
        ((Number(r['promoters']) - Number(r['detractors'])) / Number(r['responses'])) * 100,
        0,
      );
  });

  it('aggregates: service percentiles, contact drivers, retention, perception gap, pain points, channels', async () => {
    const service = (await app.inject({ url: '/v1/aggregates/service?by=priority', headers: auth() })).json<{
      rows: Row[];
    }>().rows;
    expect(service.length).toBeGreaterThan(0);
    for (const r of service)
      if (r['first_reply_p50'] !== null)
        expect(Number(r['first_reply_p90'])).toBeGreaterThanOrEqual(Number(r['first_reply_p50']));
    for (const url of [
      '/v1/aggregates/contact-drivers',
      '/v1/aggregates/retention',
      '/v1/aggregates/perception-gap',
      '/v1/aggregates/pain-points',
      '/v1/aggregates/channels',
    ]) {
      const res = await app.inject({ url, headers: auth() });
      expect(res.statusCode, url).toBe(200);
    }
    const retention = (await app.inject({ url: '/v1/aggregates/retention', headers: auth() })).json<{
      mrr: { months: { offset: number; nrrPct: number }[] }[];
    }>();
    for (const c of retention.mrr) expect(c.months[0]).toMatchObject({ offset: 0, nrrPct: 100 });
  });
});
