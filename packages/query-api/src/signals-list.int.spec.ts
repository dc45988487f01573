import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadModelStore } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { createHttpServer, generateApiKey, memoryApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import { signalSummary, type SignalStatus } from '@crm-ledger/projections';
import { Projector } from '@crm-ledger/projector';
import { withSignals } from '@crm-ledger/projector/testing';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteEventStore, openSqliteReadModel } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerQueryRoutes } from './routes.js';

/**
 * `GET /v1/signals` (issue #16) over the success view's `success_signals`, on real SQLite and real PostgreSQL:
 * the list says for every customer what the per-customer route (a fold of their stream) says; acting on a
 * signal and voiding the action move it open -> acted -> open; every filter and the paging (no duplicate, no
 * gap); 400 with the zod issues for bad parameters; the success aggregate's follow-up figures.
 */
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(path.join(tmpdir(), 'signals-list-'));
const schema = `signals_${randomBytes(5).toString('hex')}`;
const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
const apps: [string, HttpApp, ReadModelStore][] = [];
let key = '';
let customers: string[] = [];

type Listed = SignalStatus & { position: number; data: Record<string, unknown> };
interface Page {
  items: Listed[];
  nextCursor?: string;
}

async function append(customerId: string, events: RawEnvelope[]): Promise<void> {
  const r = await store.append(customerStream(customerId), events);
  if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
  for (const [, , rm] of apps) await new Projector({ store, readModel: rm }).catchUp();
}

beforeAll(async () => {
  const histories = [...generateHistory({ seed: 16, customers: 30, targetEvents: 3_000 })];
  const end = histories
    .flatMap((h) => h.events.map((e) => e.occurredAt))
    .sort()
    .at(-1)!;
  for (const h of histories) {
    const r = await store.append(customerStream(h.customerId), withSignals(h, end).events);
    if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
  }
  customers = histories.map((h) => h.customerId);
  const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
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
      keys: memoryApiKeyStore([read.record]),
      // "now" after every action of the history: the per-customer route's default asOf counts them all
      clock: { now: () => '2099-01-01T00:00:00.000Z' },
    });
    await app.ready();
    apps.push([name, app, rm]);
  }
}, 120_000);
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

/** Every page of the list with `query`, following nextCursor. */
async function pages(app: HttpApp, query: string, limit = 7): Promise<Listed[][]> {
  const out: Listed[][] = [];
  let cursor: string | undefined;
  do {
    const res = await get(
      app,
      `/v1/signals?${query}&limit=${limit}${cursor === undefined ? '' : `&cursor=${cursor}`}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Page>();
    expect(body.items.length).toBeLessThanOrEqual(limit);
    out.push(body.items);
    cursor = body.nextCursor;
  } while (cursor !== undefined && out.length < 1_000);
  return out;
}
const everything = async (app: HttpApp, query = ''): Promise<Listed[]> =>
  (await pages(app, query, 500)).flat();

const newestFirst = (a: Listed, b: Listed): number =>
  a.raisedAt !== b.raisedAt ? (a.raisedAt < b.raisedAt ? 1 : -1) : a.signalId < b.signalId ? 1 : -1;
const statusView = (s: SignalStatus & { data: unknown }) => ({
  signalId: s.signalId,
  customerId: s.customerId,
  type: s.type,
  raisedAt: s.raisedAt,
  status: s.status,
  closedAt: s.closedAt,
  closedBy: s.closedBy,
  closedByEventId: s.closedByEventId,
  minutesToAction: s.minutesToAction,
  data: s.data,
});

describe.each([
  ['SQLite', 0],
  ['PostgreSQL', 1],
] as const)('GET /v1/signals (%s)', (_store, i) => {
  const app = (): HttpApp => apps[i]![1];

  it('says for every customer what GET /v1/customers/:id/signals says (same ids, same status, same data)', async () => {
    const listed = await everything(app());
    expect(new Set(listed.map((s) => s.status))).toEqual(new Set(['open', 'acted', 'dismissed']));
    let compared = 0;
    for (const customerId of customers) {
      const res = await get(app(), `/v1/customers/${customerId}/signals`);
      if (res.statusCode === 404) continue;
      expect(res.statusCode, res.body).toBe(200);
      const folded = res.json<{ signals: Listed[] }>().signals;
      const mine = listed.filter((s) => s.customerId === customerId);
      const byId = (a: { signalId: string }, b: { signalId: string }) => a.signalId.localeCompare(b.signalId);
      expect(mine.map(statusView).sort(byId)).toEqual(folded.map(statusView).sort(byId));
      compared += folded.length;
    }
    expect(compared).toBe(listed.length);
    expect(compared).toBeGreaterThan(20);
  });

  it('gives the live 360 of every customer the signals and summary GET /v1/customers/:id/signals gives', async () => {
    let compared = 0;
    for (const customerId of customers) {
      const route = await get(app(), `/v1/customers/${customerId}/signals`);
      const live = await get(app(), `/v1/customers/${customerId}`);
      if (route.statusCode === 404) continue;
      expect(live.statusCode, live.body).toBe(200);
      const folded = route.json<{ signals: Listed[]; summary: unknown }>();
      const body = live.json<{ source: string; signals: { signals: Listed[]; summary: unknown } }>();
      expect(body.source).toBe('live');
      // the same order (oldest first) and the same fields: the table's rows answer what the fold answers
      expect(body.signals.signals.map(statusView)).toEqual(folded.signals.map(statusView));
      expect(body.signals.summary).toEqual(folded.summary);
      compared += folded.signals.length;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('pages through every signal once, newest first, whatever the page size: no duplicate, no gap', async () => {
    const all = await everything(app());
    expect(all).toEqual([...all].sort(newestFirst));
    for (const limit of [1, 7, 50]) {
      const paged = await pages(app(), '', limit);
      expect(paged.flat()).toEqual(all);
      expect(paged.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    }
  });

  it('filters by status, type, customer, segment and occurredAt window in SQL before paging', async () => {
    const all = await everything(app());
    const some = all[Math.floor(all.length / 2)]!;
    const since = all[all.length - 1 - Math.floor(all.length / 4)]!.raisedAt;
    const until = all[Math.floor(all.length / 4)]!.raisedAt;
    const segments = new Map<string, string>();
    for (const customerId of new Set(all.map((s) => s.customerId))) {
      const res = await get(app(), `/v1/customers?limit=500`);
      for (const it of res.json<{ items: { account: { customer_id: string; segment: string } }[] }>().items)
        segments.set(it.account.customer_id, it.account.segment);
      if (segments.has(customerId)) break;
    }
    const cases: [string, (s: Listed) => boolean][] = [
      ['status=open', (s) => s.status === 'open'],
      ['status=acted', (s) => s.status === 'acted'],
      ['status=dismissed', (s) => s.status === 'dismissed'],
      [`type=${some.type}`, (s) => s.type === some.type],
      [`customerId=${some.customerId}`, (s) => s.customerId === some.customerId],
      ['segment=B2B', (s) => segments.get(s.customerId) === 'B2B'],
      ['segment=B2C', (s) => segments.get(s.customerId) === 'B2C'],
      [`since=${since}`, (s) => s.raisedAt >= since],
      [`until=${until}`, (s) => s.raisedAt < until],
      [
        `status=open&type=${some.type}&since=${since}&until=${until}`,
        (s) => s.status === 'open' && s.type === some.type && s.raisedAt >= since && s.raisedAt < until,
      ],
      [`since=${since.slice(0, 10)}`, (s) => s.raisedAt >= `${since.slice(0, 10)}T00:00:00.000Z`],
    ];
    for (const [query, keep] of cases) {
      const expected = all.filter(keep);
      expect(expected.length, query).toBeGreaterThan(0);
      expect((await pages(app(), query, 5)).flat(), query).toEqual(expected);
    }
    expect(await everything(app(), 'customerId=nobody')).toEqual([]);
  });

  it('answers 400 with the zod issues for a bad status, type, instant, limit or cursor', async () => {
    for (const query of [
      'status=closed',
      'type=CustomerWentQuiet',
      'since=yesterday',
      'until=2026-13-01',
      'limit=0',
      'limit=501',
      'segment=B2X',
      'customerId=' + 'x'.repeat(300),
    ]) {
      const res = await get(app(), `/v1/signals?${query}`);
      expect(res.statusCode, query).toBe(400);
      const error = res.json<{ error: { code: string; issues?: { path: unknown[] }[] } }>().error;
      expect(error.code, query).toBe('invalid_request');
      expect(error.issues?.[0]?.path, query).toEqual(['querystring', query.split('=')[0]]);
    }
    const list = await get(app(), '/v1/customers?limit=1');
    const foreign = list.json<{ nextCursor: string }>().nextCursor;
    for (const cursor of ['not-a-cursor', foreign]) {
      const res = await get(app(), `/v1/signals?cursor=${cursor}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('invalid_request');
    }
  });

  it('reports the follow-up per signal type in the success aggregate, as signalSummary counts it', async () => {
    const all = await everything(app());
    const res = await get(app(), '/v1/aggregates/accounts');
    expect(res.statusCode, res.body).toBe(200);
    const { signals } = res.json<{
      signals: { byType: Record<string, unknown>[]; total: Record<string, unknown> };
    }>();
    const types = [...new Set(all.map((s) => s.type))].sort();
    const figures = (of: Listed[]) => {
      const s = signalSummary(of);
      return {
        count: s.raised,
        open: s.open,
        acted: s.acted,
        dismissed: s.dismissed,
        actedSharePct: s.actedSharePct,
        medianMinutesToAction: s.medianMinutesToAction,
      };
    };
    expect(signals.byType).toEqual(
      types.map((type) => ({ type, ...figures(all.filter((s) => s.type === type)) })),
    );
    expect(signals.total).toEqual(figures(all));
    expect(signals.total['acted']).toBeGreaterThan(0);
  });
});

describe('acting on a signal and voiding the action, in the read model', () => {
  it('moves a signal open -> acted -> open on both stores, as the per-customer route says', async () => {
    const open = (await everything(apps[0]![1], 'status=open'))[0]!;
    const outreach: RawEnvelope = {
      eventId: randomUUID(),
      type: 'OutreachMade',
      schemaVersion: 1,
      customerId: open.customerId,
      occurredAt: new Date(Date.parse(open.raisedAt) + 45 * 60_000).toISOString(),
      causationId: open.signalId,
      data: { kind: 'check_in', by: 'csm-9', channel: 'email' },
    };
    const one = async (app: HttpApp) =>
      (await everything(app, `customerId=${open.customerId}`)).find((s) => s.signalId === open.signalId)!;
    const folded = async (app: HttpApp) =>
      (await get(app, `/v1/customers/${open.customerId}/signals`))
        .json<{ signals: Listed[] }>()
        .signals.find((s) => s.signalId === open.signalId)!;

    await append(open.customerId, [outreach]);
    for (const [name, app] of apps) {
      expect(await one(app), name).toMatchObject({
        status: 'acted',
        closedBy: 'OutreachMade',
        closedByEventId: outreach.eventId,
        minutesToAction: 45,
      });
      expect(statusView(await one(app))).toEqual(statusView(await folded(app)));
      expect(
        (await everything(app, 'status=open')).some((s) => s.signalId === open.signalId),
        name,
      ).toBe(false);
    }

    await append(open.customerId, [
      {
        eventId: randomUUID(),
        type: 'EventVoided',
        schemaVersion: 1,
        customerId: open.customerId,
        occurredAt: new Date(Date.parse(open.raisedAt) + 90 * 60_000).toISOString(),
        data: { eventId: outreach.eventId, reason: 'wrong signal' },
      },
    ]);
    for (const [name, app] of apps) {
      expect(await one(app), name).toMatchObject({
        status: 'open',
        closedAt: null,
        closedBy: null,
        closedByEventId: null,
        minutesToAction: null,
      });
      expect(statusView(await one(app))).toEqual(statusView(await folded(app)));
      expect(
        (await everything(app, 'status=open')).some((s) => s.signalId === open.signalId),
        name,
      ).toBe(true);
    }
  });
});
