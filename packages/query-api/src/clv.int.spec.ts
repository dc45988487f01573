import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendSimulatedPurchases,
  distributionBySegment,
  fitClvFromStore,
  writeClvToReadModel,
} from '@crm-ledger/clv-ledger';
import { fixedClock, type Row } from '@crm-ledger/core';
import { createHttpServer, generateApiKey, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { registerClvRoutes } from './clv-routes.js';
import { registerQueryRoutes } from './routes.js';

describe('CLV routes over a real SQLite read model', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'query-api-clv-'));
  let app: HttpApp;
  let readModel: SqliteReadModel;
  let store: ReturnType<typeof openSqliteEventStore>;
  let key: string;
  let appendKey: string;
  const auth = () => ({ authorization: `Bearer ${key}` });
  const fitNow = async (at: string) => {
    const fit = await fitClvFromStore(
      store,
      { observationEnd: '2026-03-09', currency: 'USD' },
      fixedClock(at),
    );
    if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
    await writeClvToReadModel(readModel, fit.right.record, fit.right.summaries, await store.headPosition());
    return fit.right.record;
  };

  beforeAll(async () => {
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite') });
    await appendSimulatedPurchases(store, { customers: 240, observationEnd: '2026-03-09', seed: 8 });
    readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
    await new Projector({ store, readModel }).catchUp();
    const keys = openSqliteAuthStore(path.join(dir, 'auth.sqlite')).keys;
    const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
    const append = generateApiKey('writer', ['append'], '2026-01-01T00:00:00Z');
    await keys.add(read.record);
    await keys.add(append.record);
    key = read.key;
    appendKey = append.key;
    app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
    registerClvRoutes(app, { readModel, keys });
    registerQueryRoutes(app, { store, readModel, keys, clock: fixedClock('2026-03-10T12:00:00Z') });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await readModel.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('401 without a key, 403 without the read scope', async () => {
    expect((await app.inject({ url: '/v1/clv/fit' })).statusCode).toBe(401);
    const wrong = await app.inject({ url: '/v1/clv/fit', headers: { authorization: `Bearer ${appendKey}` } });
    expect(wrong.statusCode).toBe(403);
  });

  it('404 with the standard error body before any fit', async () => {
    for (const url of ['/v1/clv/fit', '/v1/customers/sim-8-1/clv', '/v1/aggregates/clv']) {
      const res = await app.inject({ url, headers: auth() });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('serves the stored fit, customer scores and distribution exactly as in the tables', async () => {
    await fitNow('2026-03-10T06:00:00.000Z');
    const record = await fitNow('2026-03-10T07:00:00.000Z'); // the latest replaces the first
    const fit = await app.inject({ url: '/v1/clv/fit', headers: auth() });
    expect(fit.statusCode).toBe(200);
    const [fitRow] = await readModel.find('clv_fit', []);
    expect(fit.json()).toEqual({
      fittedAt: '2026-03-10T07:00:00.000Z',
      window: {
        firstPurchaseDay: record.window.firstPurchaseDay,
        observationEnd: '2026-03-09',
        daysPerUnit: 7,
      },
      currency: 'USD',
      bgNbd: {
        r: fitRow!['r'],
        alpha: fitRow!['alpha'],
        a: fitRow!['a'],
        b: fitRow!['b'],
        logLikelihood: fitRow!['bg_nbd_log_likelihood'],
        customers: 240,
        repeatBuyers: record.bgNbd.repeatBuyers,
      },
      gammaGamma: {
        p: record.gammaGamma.params.p,
        q: record.gammaGamma.params.q,
        v: record.gammaGamma.params.v,
        logLikelihood: record.gammaGamma.logLikelihood,
      },
    });
    expect(fit.json<{ bgNbd: { r: number } }>().bgNbd.r).toBe(record.bgNbd.params.r);

    const row = (await readModel.get('clv_customers', { customer_id: 'sim-8-3' }))!;
    const one = await app.inject({ url: '/v1/customers/sim-8-3/clv', headers: auth() });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      customerId: 'sim-8-3',
      pAlive: row['p_alive'],
      expectedPurchases: row['expected_purchases'],
      horizon: 52,
      expectedSpend: row['expected_spend'],
      clv: row['clv'],
      clvMonths: 12,
      monthlyDiscountRate: 0.01,
      history: { frequency: row['frequency'], recency: row['recency'], age: row['age'] },
      fit: { fittedAt: '2026-03-10T07:00:00.000Z' },
    });
    expect(Number(row['p_alive'])).toBeGreaterThan(0);

    const missing = await app.inject({ url: '/v1/customers/nobody/clv', headers: auth() });
    expect(missing.statusCode).toBe(404);

    const agg = await app.inject({ url: '/v1/aggregates/clv?by=segment', headers: auth() });
    expect(agg.statusCode).toBe(200);
    const scores = await readModel.find('clv_customers', []);
    const segmentOf = (id: string) => (Number(id.split('-')[2]) % 3 === 0 ? 'B2B' : 'B2C');
    const expected = distributionBySegment(
      scores.map((s: Row) => ({ segment: segmentOf(String(s['customer_id'])), value: Number(s['clv']) })),
    );
    const body = agg.json<{ rows: { segment: string; customers: number; total: number }[] }>();
    expect(body).toMatchObject({ by: 'segment', metric: 'clv', currency: 'USD' });
    expect(body.rows).toEqual(expected);
    expect(body.rows.map((r) => [r.segment, r.customers])).toEqual([
      ['B2B', 80],
      ['B2C', 160],
    ]);

    const alive = await app.inject({ url: '/v1/aggregates/clv?by=segment&metric=p_alive', headers: auth() });
    for (const r of alive.json<{ rows: { p90: number }[] }>().rows) expect(r.p90).toBeLessThanOrEqual(1);
  });

  it('the customer 360 carries the clv_customers row when live, null when folded as of a past instant', async () => {
    const row = await readModel.get('clv_customers', { customer_id: 'sim-8-3' });
    expect(row).toBeDefined();
    const live = await app.inject({ url: '/v1/customers/sim-8-3', headers: auth() });
    expect(live.statusCode).toBe(200);
    expect(live.json<{ clv: Row | null }>().clv).toEqual(row);
    const past = await app.inject({
      url: '/v1/customers/sim-8-3?asOf=2026-03-01T00:00:00Z',
      headers: auth(),
    });
    expect(past.json<{ clv: Row | null }>().clv).toBeNull();
  });

  it('400 with issues on a bad query string', async () => {
    for (const url of ['/v1/aggregates/clv?by=planet', '/v1/aggregates/clv?metric=ltv']) {
      const res = await app.inject({ url, headers: auth() });
      expect(res.statusCode, url).toBe(400);
      const body = res.json<{ error: { code: string; issues: unknown[] } }>();
      expect(body.error.issues.length).toBeGreaterThan(0);
    }
  });
});
