import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadModelStore } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { createHttpServer, generateApiKey, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector, replay, resolveCut, CutInstant, KnownAt, type CutRequest } from '@crm-ledger/projector';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerQueryRoutes } from './routes.js';

/**
 * Bitemporal cuts: the query API's 360 folded as of a cut gives the same rows as the views rebuilt with
 * `replay` as of the same cut, read live. The history has late events (recorded after the middle of the log
 * although they occurred long before), so "as of" (business time) and "as known at" (ledger time) select
 * different events. Both read models: SQLite and PostgreSQL.
 */

type Json = Record<string, unknown>;

const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Every 6th event of a customer (not the first) arrives late: appended after everything else. */
function split(histories: { customerId: string; events: RawEnvelope[] }[]) {
  const onTime: RawEnvelope[] = [];
  const late: RawEnvelope[] = [];
  for (const h of histories) h.events.forEach((e, i) => (i > 0 && i % 6 === 3 ? late : onTime).push(e));
  return { onTime, late };
}

/** Appends events in the order given, consecutive events of one customer together. */
async function append(store: ReturnType<typeof openSqliteEventStore>, events: RawEnvelope[]): Promise<void> {
  let i = 0;
  while (i < events.length) {
    let j = i;
    while (j < events.length && events[j]!.customerId === events[i]!.customerId) j++;
    const r = await store.append(customerStream(events[i]!.customerId), events.slice(i, j));
    if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
    i = j;
  }
}

const byTime = (a: RawEnvelope, b: RawEnvelope): number =>
  a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0;

/** A row list in a canonical order (read models may return rows in any order). */
const sorted = (rows: unknown): unknown =>
  Array.isArray(rows) ? (rows as unknown[]).map((r) => JSON.stringify(r)).sort() : rows;

/** The view rows of a 360 answer, each list in a canonical order. */
function viewsOf(body: Json): Json {
  const out: Json = {};
  for (const view of ['service', 'success', 'experience', 'value']) {
    const v = body[view] as Json;
    out[view] = Object.fromEntries(Object.entries(v).map(([k, rows]) => [k, sorted(rows)]));
  }
  return out;
}

const dir = mkdtempSync(path.join(tmpdir(), 'bitemporal-'));
const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
const histories = [...generateHistory({ seed: 11, customers: 16, targetEvents: 1_600 })];
const customers = histories.map((h) => h.customerId);
let middle = 0;
let head = 0;

beforeAll(async () => {
  const { onTime, late } = split(histories);
  await append(store, onTime.sort(byTime));
  middle = await store.headPosition();
  await append(store, late.sort(byTime));
  head = await store.headPosition();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The cuts, as a user writes them (`MIDDLE`: the position before the late events, known once appended). */
const cuts: [string, { asOf?: string; asKnownAt?: string }][] = [
  ['as of (business time)', { asOf: '2025-03-31' }],
  ['as known at (ledger time)', { asKnownAt: 'MIDDLE' }],
  ['as of and as known at together', { asOf: '2025-03-31T12:00:00+02:00', asKnownAt: 'MIDDLE' }],
];

interface Opened {
  rm: ReadModelStore;
  drop: () => Promise<void>;
  /** An empty scratch read model of the same kind (the query API builds the views of a cut into one). */
  scratch: () => Promise<ReadModelStore>;
}

/** Scratch schemas the PostgreSQL cuts created (each dropped by its store's close). */
const scratchSchemas: string[] = [];

const readModels: [string, () => Promise<Opened>][] = [
  [
    'SQLite',
    () => {
      const file = path.join(dir, `rm-${Math.random().toString(36).slice(2)}.sqlite`);
      const rm = openSqliteReadModel({ file });
      return Promise.resolve({
        rm,
        drop: () => Promise.resolve(),
        scratch: () => Promise.resolve(openSqliteReadModel({ file: ':memory:' })),
      });
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const schema = `bitemporal_${randomBytes(5).toString('hex')}`;
      const rm = await openPostgresReadModelStore({ connectionString: POSTGRES, schema, poolSize: 4 });
      const scratch = () => {
        const cutSchema = `${schema}__cut_${randomBytes(4).toString('hex')}`;
        scratchSchemas.push(cutSchema);
        return openPostgresReadModelStore({
          connectionString: POSTGRES,
          schema: cutSchema,
          poolSize: 2,
          dropOnClose: true,
        });
      };
      const drop = async () => {
        const client = new pg.Client({ connectionString: POSTGRES });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
        await client.end();
      };
      return { rm, drop, scratch };
    },
  ],
];

describe.each(readModels)('bitemporal cuts on the %s read model', (_name, open) => {
  let rm: ReadModelStore;
  let drop: () => Promise<void>;
  let scratch: () => Promise<ReadModelStore>;
  let app: HttpApp;
  let key: string;
  let now = '2026-01-01T00:00:00.000Z';

  beforeAll(async () => {
    ({ rm, drop, scratch } = await open());
    await new Projector({ store, readModel: rm }).catchUp();
    const keys = openSqliteAuthStore(
      path.join(dir, `keys-${Math.random().toString(36).slice(2)}.sqlite`),
    ).keys;
    const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
    await keys.add(read.record);
    key = read.key;
    app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
    registerQueryRoutes(app, {
      store,
      readModel: rm,
      keys,
      clock: { now: () => now },
      openScratchReadModel: () => scratch(),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rm.close();
    await drop();
  });

  const get = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${key}` } });

  it('the late events make the two times select different events', async () => {
    expect(middle).toBeGreaterThan(0);
    expect(head).toBeGreaterThan(middle);
    const asOf = await resolveCut(store, { asOf: CutInstant.parse('2024-06-30') });
    const known = await resolveCut(store, { asKnownAt: KnownAt.parse(String(middle)) });
    const count = async (cut: typeof asOf) => {
      let n = 0;
      for (const id of customers) {
        const r = await get(
          `/v1/customers/${id}?timeline=1000${cut.asOf === undefined ? '' : `&asOf=${cut.asOf}`}${cut.position === undefined ? '' : `&asKnownAt=${cut.position}`}`,
        );
        if (r.statusCode === 200) n += r.json<{ timeline: unknown[] }>().timeline.length;
      }
      return n;
    };
    const [a, k] = [await count(asOf), await count(known)];
    expect(a).toBeGreaterThan(0);
    expect(k).toBeGreaterThan(0);
    expect(a).not.toBe(k);
  });

  it.each(cuts)(
    '%s: the 360 folded as of the cut equals the views rebuilt as of the cut',
    async (_label, written) => {
      const asked = { ...written, ...(written.asKnownAt === undefined ? {} : { asKnownAt: String(middle) }) };
      const request: CutRequest = {
        ...(asked.asOf === undefined ? {} : { asOf: CutInstant.parse(asked.asOf) }),
        ...(asked.asKnownAt === undefined ? {} : { asKnownAt: KnownAt.parse(asked.asKnownAt) }),
      };
      const cut = await resolveCut(store, request);
      await replay({
        store,
        readModel: rm,
        until: cut.position ?? head,
        ...(cut.asOf === undefined ? {} : { asOf: cut.asOf }),
        resume: false,
      });
      // time-dependent values (health, silence, tenure) are computed for the same instant on both sides
      now = cut.asOf ?? '2026-01-01T00:00:00.000Z';
      const query = new URLSearchParams(asked).toString();
      let compared = 0;
      for (const id of customers) {
        const folded = await get(`/v1/customers/${id}?${query}`);
        const live = await get(`/v1/customers/${id}`);
        expect(live.statusCode).toBe(200);
        const l = live.json<Json>();
        expect(l['source']).toBe('live');
        if (folded.statusCode === 404) {
          // nothing of this customer is in the cut: the rebuilt views hold nothing of them either
          expect((l['value'] as Json)['customer'], id).toBeNull();
          expect((l['success'] as Json)['account'], id).toBeNull();
          continue;
        }
        expect(folded.statusCode).toBe(200);
        const f = folded.json<Json>();
        expect(f['source']).toBe('folded');
        expect(f['asKnownAt']).toBe(cut.position ?? null);
        expect(viewsOf(f), id).toEqual(viewsOf(l));
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(customers.length / 2);
    },
  );

  /** The list and every aggregate, as the API answers them (each list sorted and paged through in full). */
  const LISTS_AND_AGGREGATES = [
    '/v1/customers?limit=500&sort=health_score',
    '/v1/customers?limit=7&sort=churn_risk&direction=desc',
    '/v1/customers?limit=500&silentDays=30&sort=days_silent',
    '/v1/customers?limit=500&renewalWithinDays=365&sort=next_renewal_date',
    '/v1/aggregates/accounts?renewalWithinDays=365',
    '/v1/aggregates/accounts?renewalWithinDays=365&currency=EUR',
    '/v1/aggregates/retention?months=6',
    '/v1/aggregates/retention?months=6&currency=EUR',
    '/v1/aggregates/nps',
    '/v1/aggregates/experience-trend?by=quarter',
    '/v1/aggregates/service?by=channel',
    '/v1/aggregates/contact-drivers',
    '/v1/aggregates/perception-gap',
    '/v1/aggregates/pain-points',
    '/v1/aggregates/channels',
  ];

  const withQuery = (url: string, query: string): string => `${url}${url.includes('?') ? '&' : '?'}${query}`;

  /** Every page of a list (following nextCursor), or the aggregate's one answer. */
  const answer = async (url: string): Promise<unknown> => {
    const first = await get(url);
    expect(first.statusCode, `${url}: ${first.body}`).toBe(200);
    const body = first.json<Json>();
    if (!url.startsWith('/v1/customers')) return body;
    const items = [...(body['items'] as unknown[])];
    let next = body['nextCursor'] as string | undefined;
    while (next !== undefined) {
      const page = await get(withQuery(url, `cursor=${encodeURIComponent(next)}`));
      expect(page.statusCode, page.body).toBe(200);
      items.push(...(page.json<Json>()['items'] as unknown[]));
      next = page.json<Json>()['nextCursor'] as string | undefined;
    }
    return items;
  };

  it.each(cuts)(
    '%s: the account list and every aggregate at the cut equal the same queries over the views rebuilt at the cut',
    async (_label, written) => {
      const asked = { ...written, ...(written.asKnownAt === undefined ? {} : { asKnownAt: String(middle) }) };
      const cut = await resolveCut(store, {
        ...(asked.asOf === undefined ? {} : { asOf: CutInstant.parse(asked.asOf) }),
        ...(asked.asKnownAt === undefined ? {} : { asKnownAt: KnownAt.parse(asked.asKnownAt) }),
      });
      // the live views are the whole log again: the API must build the cut itself
      await replay({ store, readModel: rm, resume: false });
      now = cut.asOf ?? '2026-01-01T00:00:00.000Z';
      const query = new URLSearchParams(asked).toString();
      const atCut: unknown[] = [];
      for (const url of LISTS_AND_AGGREGATES) atCut.push(await answer(withQuery(url, query)));
      const whole: unknown[] = [];
      for (const url of LISTS_AND_AGGREGATES) whole.push(await answer(url));
      // the views rebuilt with the same cut (crm-ledger replay --as-of/--as-known-at), read without a cut
      await replay({
        store,
        readModel: rm,
        until: cut.position ?? head,
        ...(cut.asOf === undefined ? {} : { asOf: cut.asOf }),
        resume: false,
      });
      const rebuilt: unknown[] = [];
      for (const url of LISTS_AND_AGGREGATES) rebuilt.push(await answer(url));
      LISTS_AND_AGGREGATES.forEach((url, i) => expect(atCut[i], url).toEqual(rebuilt[i]));
      // not vacuous: the lists hold accounts, and the cut's answers differ from the whole log's
      expect((atCut[0] as unknown[]).length).toBeGreaterThan(0);
      expect(atCut.filter((a, i) => JSON.stringify(a) !== JSON.stringify(whole[i])).length).toBeGreaterThan(
        3,
      );
      // asked again (cached), the same answers
      expect(await answer(withQuery(LISTS_AND_AGGREGATES[4]!, query))).toEqual(rebuilt[4]);
    },
  );
});

afterAll(async () => {
  // every scratch schema the PostgreSQL cuts built was dropped when the API closed (evicted ones before)
  if (scratchSchemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  const left = await client.query<{ n: string }>(
    'SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = ANY($1)',
    [scratchSchemas],
  );
  for (const s of scratchSchemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
  expect(Number(left.rows[0]!.n)).toBe(0);
});
