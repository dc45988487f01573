import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, type ReadModelStore, type Row } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { createHttpServer, generateApiKey, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerQueryRoutes } from './routes.js';

const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The SLA policies the synthetic history opens its tickets with (packages/synthetic, per priority). */
const SYNTHETIC_SLA = {
  urgent: { first: 15, resolution: 240 },
  high: { first: 60, resolution: 1_440 },
  normal: { first: 240, resolution: 4_320 },
  low: { first: 720, resolution: 10_080 },
};

interface TrendRow {
  metric: string;
  period: string;
  channel?: string;
  responses: number;
  value: number | null;
  mean_score: number | null;
  satisfied_pct: number | null;
  promoters: number;
  detractors: number;
}

// The aggregates over the same projected history in both read-model stores: every assertion runs against
// SQLite and PostgreSQL, and the two answer byte for byte the same JSON.
describe('aggregates on SQLite and PostgreSQL (one seeded history, the same answers)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'query-aggregates-'));
  const schema = `agg_${randomBytes(5).toString('hex')}`;
  const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  const stores: { name: string; readModel: ReadModelStore; app: HttpApp }[] = [];
  let key = '';

  const get = async (app: HttpApp, url: string) => {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  /** The answer of both stores, after checking they are equal and 200. */
  const both = async <T>(url: string): Promise<{ name: string; readModel: ReadModelStore; body: T }[]> => {
    const out = [];
    for (const s of stores) {
      const r = await get(s.app, url);
      expect(r.status, `${s.name} ${url}`).toBe(200);
      out.push({ name: s.name, readModel: s.readModel, body: r.body as T });
    }
    expect(out[1]!.body, url).toEqual(out[0]!.body);
    return out;
  };

  beforeAll(async () => {
    for (const h of generateHistory({ seed: 5, customers: 60, targetEvents: 6_000 }))
      await store.append(customerStream(h.customerId), h.events);
    const keys = openSqliteAuthStore(path.join(dir, 'auth.sqlite')).keys;
    const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
    await keys.add(read.record);
    key = read.key;
    const sqlite = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
    const postgres = await openPostgresReadModelStore({ connectionString: POSTGRES, schema, poolSize: 4 });
    for (const [name, readModel] of [
      ['sqlite', sqlite],
      ['postgres', postgres],
    ] as const) {
      await new Projector({ store, readModel }).catchUp();
      const app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
      registerQueryRoutes(app, { store, readModel, keys, clock: fixedClock('2026-01-01T00:00:00Z') });
      await app.ready();
      stores.push({ name, readModel, app });
    }
  }, 180_000);

  afterAll(async () => {
    for (const s of stores) {
      await s.app.close();
      await s.readModel.close();
    }
    await store.close();
    const c = new pg.Client({ connectionString: POSTGRES });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('experience trend: NPS, CSAT and CES per month and channel add up to the survey cells', async () => {
    for (const { name, readModel, body } of await both<{ by: string; rows: TrendRow[]; totals: TrendRow[] }>(
      '/v1/aggregates/experience-trend',
    )) {
      expect(body.by).toBe('month');
      expect(new Set(body.rows.map((r) => r.metric))).toEqual(new Set(['NPS', 'CSAT', 'CES']));
      const sums = await readModel.sql({
        sqlite:
          'SELECT kind, SUM(responses) AS n, SUM(score_sum) AS s, SUM(satisfied) AS sat FROM experience_surveys GROUP BY kind',
        postgres:
          'SELECT kind, SUM(responses) AS n, SUM(score_sum) AS s, SUM(satisfied) AS sat FROM experience_surveys GROUP BY kind',
      });
      for (const k of sums) {
        const rows = body.rows.filter((r) => r.metric === k['kind']);
        expect(
          rows.reduce((a, r) => a + r.responses, 0),
          name,
        ).toBe(Number(k['n']));
        const totals = body.totals.filter((r) => r.metric === k['kind']);
        expect(
          totals.reduce((a, r) => a + r.responses, 0),
          name,
        ).toBe(Number(k['n']));
      }
      for (const r of body.rows) {
        expect(r.responses).toBeGreaterThan(0);
        if (r.metric === 'NPS')
          expect(r.value).toBeCloseTo(((r.promoters - r.detractors) / r.responses) * 100, 0);
        if (r.metric === 'CSAT') expect(r.value).toBe(r.satisfied_pct);
        if (r.metric === 'CES') expect(r.value).toBe(r.mean_score);
        if (r.metric === 'CES') expect(r.value!).toBeGreaterThanOrEqual(1);
        if (r.metric === 'CES') expect(r.value!).toBeLessThanOrEqual(7);
      }
    }
    // NPS agrees with the older NPS aggregate, cell by cell.
    const nps = await both<{ rows: { month: string; channel: string; nps: number }[] }>('/v1/aggregates/nps');
    const trend = await both<{ rows: TrendRow[] }>('/v1/aggregates/experience-trend?metric=nps');
    expect(trend[0]!.body.rows.every((r) => r.metric === 'NPS')).toBe(true);
    expect(trend[0]!.body.rows.map((r) => [r.period, r.channel, r.value])).toEqual(
      nps[0]!.body.rows.map((r) => [r.month, r.channel, r.nps]),
    );
  });

  it('the OpenAPI document describes the experience trend: its filters and its rows', async () => {
    const doc = (await stores[0]!.app.inject({ url: '/openapi.json' })).json<{
      paths: Record<string, { get: { parameters: { name: string; in: string }[]; responses: object } }>;
    }>();
    const op = doc.paths['/v1/aggregates/experience-trend']!.get;
    expect(op.parameters.map((p) => p.name).sort()).toEqual([
      'asKnownAt',
      'asOf',
      'by',
      'channel',
      'from',
      'metric',
      'segment',
      'to',
    ]);
    expect(JSON.stringify(op.responses)).toContain('ExperienceTrendRow');
    const service = doc.paths['/v1/aggregates/service']!.get;
    expect(service.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['segment', 'channel']));
  });

  it('experience trend: channel, segment, period and quarter filters', async () => {
    const all = (await both<{ rows: TrendRow[] }>('/v1/aggregates/experience-trend?metric=csat'))[0]!.body;
    const email = (
      await both<{ rows: TrendRow[]; totals: TrendRow[] }>(
        '/v1/aggregates/experience-trend?metric=csat&channel=email',
      )
    )[0]!.body;
    expect(email.rows.length).toBeGreaterThan(0);
    expect(email.rows.every((r) => r.channel === 'email')).toBe(true);
    expect(email.rows).toEqual(all.rows.filter((r) => r.channel === 'email'));
    expect(email.totals.map((t) => [t.period, t.value])).toEqual(email.rows.map((r) => [r.period, r.value]));

    for (const { readModel, body } of await both<{ rows: TrendRow[] }>(
      '/v1/aggregates/experience-trend?segment=B2B',
    )) {
      const text = `SELECT SUM(responses) AS n FROM experience_surveys s JOIN experience_customers c
        ON c.customer_id = s.customer_id WHERE c.segment = 'B2B'`;
      const [n] = await readModel.sql({ sqlite: text, postgres: text });
      expect(body.rows.reduce((a, r) => a + r.responses, 0)).toBe(Number(n!['n']));
      expect(Number(n!['n'])).toBeGreaterThan(0);
    }
    const window = (
      await both<{ rows: TrendRow[] }>('/v1/aggregates/experience-trend?from=2025-01-01&to=2025-07-01')
    )[0]!.body;
    expect(window.rows.length).toBeGreaterThan(0);
    expect(window.rows.every((r) => r.period >= '2025-01' && r.period <= '2025-06')).toBe(true);
    const quarters = (
      await both<{ by: string; rows: TrendRow[] }>(
        '/v1/aggregates/experience-trend?from=2025-01-01&to=2025-07-01&by=quarter',
      )
    )[0]!.body;
    expect(quarters.by).toBe('quarter');
    expect(new Set(quarters.rows.map((r) => r.period))).toEqual(new Set(['2025-Q1', '2025-Q2']));
    expect(quarters.rows.reduce((a, r) => a + r.responses, 0)).toBe(
      window.rows.reduce((a, r) => a + r.responses, 0),
    );
    for (const bad of ['metric=loyalty', 'by=week', 'segment=SMB', 'channel=%27x', 'from=2025-13-01'])
      for (const s of stores)
        expect((await get(s.app, `/v1/aggregates/experience-trend?${bad}`)).status, bad).toBe(400);
  });

  it('service: p50 <= p90 <= p99 per priority, with the SLA targets the tickets were opened with and breach rates', async () => {
    for (const { name, readModel, body } of await both<{ rows: Row[] }>(
      '/v1/aggregates/service?by=priority',
    )) {
      const rows = body.rows.filter((r) => String(r['priority']) in SYNTHETIC_SLA);
      expect(rows.length, name).toBe(4);
      for (const r of rows) {
        const sla = SYNTHETIC_SLA[r['priority'] as keyof typeof SYNTHETIC_SLA];
        expect(r['first_reply_sla_minutes'], `${name} ${r['priority']}`).toBe(sla.first);
        expect(r['resolution_sla_minutes'], `${name} ${r['priority']}`).toBe(sla.resolution);
        for (const p of ['first_reply', 'resolution']) {
          expect(Number(r[`${p}_p90`])).toBeGreaterThanOrEqual(Number(r[`${p}_p50`]));
          expect(Number(r[`${p}_p99`])).toBeGreaterThanOrEqual(Number(r[`${p}_p90`]));
        }
        const text = `SELECT SUM(CASE WHEN first_reply_breached THEN 1 ELSE 0 END) AS b,
          SUM(CASE WHEN first_reply_breached IS NOT NULL THEN 1 ELSE 0 END) AS j FROM service_tickets WHERE priority = ?`;
        const [c] = await readModel.sql({ sqlite: text, postgres: text }, [String(r['priority'])]);
        expect(r['first_reply_breaches']).toBe(Number(c!['b']));
        // the API rounds to one decimal: within half a tenth of the exact rate (inclusive, 18.75 -> 18.8),
        // and a whole number of tenths
        const pct = Number(r['first_reply_breach_pct']);
        const exact = (Number(c!['b']) / Number(c!['j'])) * 100;
        expect(Math.abs(pct - exact), `${name} ${r['priority']}`).toBeLessThanOrEqual(0.05 + 1e-9);
        expect(Math.abs(pct * 10 - Math.round(pct * 10))).toBeLessThan(1e-9);
      }
    }
  });

  it('service, contact drivers and perception gap: segment and channel filters count what SQL counts', async () => {
    const count = async (readModel: ReadModelStore, where: string) => {
      const text = `SELECT COUNT(*) AS n FROM service_tickets t WHERE ${where}`;
      const [r] = await readModel.sql({ sqlite: text, postgres: text });
      return Number(r!['n']);
    };
    const b2bTickets = "t.customer_id IN (SELECT customer_id FROM service_customers WHERE segment = 'B2B')";
    for (const { readModel, body } of await both<{ rows: Row[] }>(
      '/v1/aggregates/service?segment=B2B&channel=chat',
    )) {
      const n = body.rows.reduce((a, r) => a + Number(r['tickets']), 0);
      expect(n).toBe(await count(readModel, `${b2bTickets} AND t.channel = 'chat'`));
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(await count(readModel, '1 = 1'));
    }
    for (const { readModel, body } of await both<{ rows: Row[] }>(
      '/v1/aggregates/contact-drivers?segment=B2B',
    )) {
      expect(body.rows.reduce((a, r) => a + Number(r['tickets']), 0)).toBe(
        await count(readModel, b2bTickets),
      );
    }
    const gapAll = (await both<{ rows: Row[] }>('/v1/aggregates/perception-gap'))[0]!.body.rows;
    const gapEmail = (await both<{ rows: Row[] }>('/v1/aggregates/perception-gap?channel=email'))[0]!.body
      .rows;
    const scored = (rows: Row[]) => rows.reduce((a, r) => a + Number(r['scored_tickets']), 0);
    expect(scored(gapEmail)).toBeGreaterThan(0);
    expect(scored(gapEmail)).toBeLessThan(scored(gapAll));
    // Retention by segment: the segments partition the cohorts' customers.
    const customers = async (q: string) =>
      (await both<{ mrr: { customers: number }[] }>(`/v1/aggregates/retention${q}`))[0]!.body.mrr.reduce(
        (a, c) => a + c.customers,
        0,
      );
    const [all, b2b, b2c] = [
      await customers(''),
      await customers('?segment=B2B'),
      await customers('?segment=B2C'),
    ];
    expect(all).toBeGreaterThan(0);
    expect(b2b + b2c).toBe(all);
  });
});
