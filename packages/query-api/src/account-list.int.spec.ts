import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { createHttpServer, generateApiKey, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerQueryRoutes } from './routes.js';

/**
 * The account list filters and sorts in the store's SQL before paging, on SQLite and PostgreSQL: the health
 * score and churn risk the SQL computes are the ones `healthOf` / `churnRiskOf` give (every filter returns
 * exactly the accounts whose computed band or risk matches), `limit` counts matching accounts, every sort
 * pages through each account once in order, and a cursor that is not the API's is a 400.
 */
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(path.join(tmpdir(), 'account-list-'));
const schema = `accounts_${randomBytes(5).toString('hex')}`;
const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
const apps: [string, HttpApp, ReadModelStore][] = [];
let key = '';

interface Item {
  account: Row;
  health: { score: number; band: string; daysSinceLastInteraction: number | null };
  churnRisk: { risk: string; reasons: { points: number }[] };
}
interface Page {
  items: Item[];
  nextCursor?: string;
  silentAfterDays: number;
}

beforeAll(async () => {
  for (const h of generateHistory({ seed: 9, customers: 80, targetEvents: 8_000 }))
    await store.append(customerStream(h.customerId), h.events);
  const keys = openSqliteAuthStore(path.join(dir, 'auth.sqlite')).keys;
  const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
  await keys.add(read.record);
  key = read.key;
  const sqlite = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
  const postgres = await openPostgresReadModelStore({ connectionString: POSTGRES, schema, poolSize: 4 });
  for (const [name, rm] of [
    ['SQLite', sqlite],
    ['PostgreSQL', postgres],
  ] as const) {
    await new Projector({ store, readModel: rm }).catchUp();
    const app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '0' });
    registerQueryRoutes(app, {
      store,
      readModel: rm,
      keys,
      clock: { now: () => '2026-01-01T00:00:00.000Z' },
      silentAfterDays: 45,
      // asOf and asKnownAt are cuts: the views as of them are built into a scratch read model of the same kind
      openScratchReadModel: () =>
        name === 'SQLite'
          ? Promise.resolve(openSqliteReadModel({ file: ':memory:' }))
          : openPostgresReadModelStore({
              connectionString: POSTGRES,
              schema: `${schema}__cut_${Math.random().toString(36).slice(2, 8)}`,
              poolSize: 2,
              dropOnClose: true,
            }),
    });
    await app.ready();
    apps.push([name, app, rm]);
  }
});
afterAll(async () => {
  for (const [, app, rm] of apps) {
    await app.close();
    await rm.close();
  }
  await store.close();
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  rmSync(dir, { recursive: true, force: true });
});

const get = (app: HttpApp, url: string) => app.inject({ url, headers: { authorization: `Bearer ${key}` } });

async function all(app: HttpApp, query: string, limit = 7): Promise<Item[][]> {
  const pages: Item[][] = [];
  let cursor: string | undefined;
  do {
    const res = await get(
      app,
      `/v1/customers?${query}&limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Page>();
    expect(body.silentAfterDays).toBe(45);
    pages.push(body.items);
    cursor = body.nextCursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

const ids = (items: Item[]) => items.map((i) => String(i.account['customer_id'])).sort();

describe.each(['SQLite', 'PostgreSQL'])('the account list on %s', (name) => {
  const app = () => apps.find(([n]) => n === name)![1];

  it.each(['2024-06-30', '2025-03-15T12:00:00Z', '2026-01-01T00:00:00Z'])(
    'as of %s: each band and risk filter returns exactly the accounts whose computed band or risk it names',
    async (asOf) => {
      const everyone = (await all(app(), `asOf=${asOf}`, 500)).flat();
      // the accounts as of that day (the list is at the cut): all 80 once the history is over
      expect(everyone.length).toBeGreaterThan(0);
      if (asOf.startsWith('2026')) expect(everyone.length).toBe(80);
      const bands = new Set(everyone.map((i) => i.health.band));
      expect(bands.size).toBeGreaterThan(1);
      for (const band of ['green', 'yellow', 'red']) {
        const pages = await all(app(), `asOf=${asOf}&healthBand=${band}`);
        const expected = everyone.filter((i) => i.health.band === band);
        expect(ids(pages.flat()), band).toEqual(ids(expected));
        // limit counts matching accounts: every page but the last is full
        for (const p of pages.slice(0, -1)) expect(p).toHaveLength(7);
      }
      for (const risk of ['low', 'medium', 'high']) {
        const got = (await all(app(), `asOf=${asOf}&churnRisk=${risk}`)).flat();
        expect(ids(got), risk).toEqual(ids(everyone.filter((i) => i.churnRisk.risk === risk)));
      }
      const silent = (await all(app(), `asOf=${asOf}&silentDays=45`)).flat();
      expect(ids(silent)).toEqual(
        ids(
          everyone.filter(
            (i) => i.health.daysSinceLastInteraction === null || i.health.daysSinceLastInteraction >= 45,
          ),
        ),
      );
    },
  );

  it('healthBand=red&limit=5 answers 5 red accounts (or all of them), not a filtered page', async () => {
    const everyone = (await all(app(), 'asOf=2026-01-01', 500)).flat();
    const reds = everyone.filter((i) => i.health.band === 'red').length;
    expect(reds).toBeGreaterThan(5);
    const res = await get(app(), '/v1/customers?asOf=2026-01-01&healthBand=red&limit=5');
    expect(res.json<Page>().items).toHaveLength(5);
    expect(res.json<Page>().nextCursor).toBeDefined();
  });

  it.each([
    ['health_score', 'asc', (i: Item) => i.health.score],
    ['health_score', 'desc', (i: Item) => i.health.score],
    ['churn_risk', 'desc', (i: Item) => i.churnRisk.reasons.reduce((s, r) => s + r.points, 0)],
    ['days_silent', 'desc', (i: Item) => i.health.daysSinceLastInteraction ?? Number.POSITIVE_INFINITY],
    ['mrr_minor', 'desc', (i: Item) => Number(i.account['mrr_minor'])],
  ] as const)('sort=%s&direction=%s visits every account once, in order', async (sort, direction, of) => {
    const seen = (await all(app(), `asOf=2025-06-30&sort=${sort}&direction=${direction}`, 9)).flat();
    // every account as of that day (the cut), each once
    const accounts = (await all(app(), 'asOf=2025-06-30', 500)).flat().length;
    expect(accounts).toBeGreaterThan(40);
    expect(seen).toHaveLength(accounts);
    expect(new Set(ids(seen)).size).toBe(accounts);
    const values = seen.map(of);
    for (let i = 1; i < values.length; i++)
      if (direction === 'asc') expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
      else expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
  });

  it('currency=X keeps exactly the accounts whose MRR is in X, in the SQL before paging; sorted by MRR within it', async () => {
    const everyone = (await all(app(), 'asOf=2026-01-01', 500)).flat();
    const currencies = [...new Set(everyone.map((i) => i.account['mrr_currency']).filter((c) => c !== null))];
    expect(currencies.length).toBeGreaterThan(1);
    for (const currency of currencies) {
      const pages = await all(
        app(),
        `asOf=2026-01-01&currency=${String(currency)}&sort=mrr_minor&direction=desc`,
        3,
      );
      const got = pages.flat();
      expect(ids(got)).toEqual(ids(everyone.filter((i) => i.account['mrr_currency'] === currency)));
      for (const p of pages.slice(0, -1)) expect(p).toHaveLength(3);
      const mrr = got.map((i) => Number(i.account['mrr_minor']));
      for (let i = 1; i < mrr.length; i++) expect(mrr[i]!).toBeLessThanOrEqual(mrr[i - 1]!);
    }
    expect((await get(app(), '/v1/customers?currency=EURO')).statusCode).toBe(400);
  });

  it('takes asOf as an instant with an offset or a date, and asKnownAt as a position: the list at that cut', async () => {
    const date = (await get(app(), '/v1/customers?asOf=2025-06-30&limit=500')).json<Page>();
    const offset = (
      await get(app(), '/v1/customers?asOf=2025-07-01T01:59:59.999%2B02:00&limit=500')
    ).json<Page>();
    expect(offset.items.map((i) => i.health.score)).toEqual(date.items.map((i) => i.health.score));
    expect(offset.items.length).toBeGreaterThan(0);
    // as known at position 100: only the customers of the first 100 events of the log
    const known = await get(app(), '/v1/customers?asKnownAt=100&limit=500');
    expect(known.statusCode, known.body).toBe(200);
    const ids100 = new Set<string>();
    for await (const page of store.readAll({ after: 0, until: 100 }))
      for (const s of page) ids100.add(s.event.customerId);
    const listed = known.json<Page>().items.map((i) => String(i.account['customer_id']));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((id) => ids100.has(id))).toBe(true);
    expect(listed.length).toBeLessThan(80);
    expect((await get(app(), '/v1/customers?asKnownAt=soon')).statusCode).toBe(400);
  });

  it('refuses a cursor it did not write, or one written for another sort (400)', async () => {
    const first = (await get(app(), '/v1/customers?sort=health_score&limit=3')).json<Page>();
    const forged = Buffer.from(JSON.stringify(['health_score', { $gt: 1 }, 'c'])).toString('base64url');
    const wrongType = Buffer.from(JSON.stringify(['health_score', 'x', 'c'])).toString('base64url');
    for (const url of [
      '/v1/customers?cursor=nonsense',
      `/v1/customers?sort=mrr_minor&cursor=${first.nextCursor!}`,
      `/v1/customers?sort=health_score&cursor=${forged}`,
      `/v1/customers?sort=health_score&cursor=${wrongType}`,
      `/v1/customers?sort=health_score&cursor=${first.nextCursor!.slice(0, -3)}`,
    ]) {
      const res = await get(app(), url);
      expect(res.statusCode, url).toBe(400);
    }
  });
});
