import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '@crm-ledger/core';
import { customerStream, upcast, type RawEnvelope } from '@crm-ledger/events';
import { createHttpServer, generateApiKey, memoryApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import { Projector } from '@crm-ledger/projector';
import { DEFAULT_HEALTH_WEIGHTS, deriveSignals, resolveSignalRules } from '@crm-ledger/projections';
import { openSqliteEventStore, openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { registerQueryRoutes } from './routes.js';

/**
 * The read side of signals (issue #16) over real SQLite files: the signals are raised by the engine itself
 * (`deriveSignals`) and appended to the customer's stream, as the signals component does; the 360 and
 * `GET /v1/customers/:id/signals` read where each stands from that stream, with the 360's cuts.
 */

type Signal = {
  signalId: string;
  type: string;
  status: string;
  raisedAt: string;
  closedBy: string | null;
  closedByEventId: string | null;
  minutesToAction: number | null;
  data: Record<string, unknown>;
};
type SignalsBody = {
  customerId: string;
  asKnownAt: number | null;
  signals: Signal[];
  summary: Record<string, number | null>;
};

const dir = mkdtempSync(path.join(tmpdir(), 'query-signals-'));
const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite') });
let readModel: SqliteReadModel;
let app: HttpApp;
let key: string;
const auth = () => ({ authorization: `Bearer ${key}` });

const envelope = (
  customerId: string,
  type: string,
  occurredAt: string,
  data: unknown,
  causationId?: string,
): RawEnvelope => ({
  eventId: randomUUID(),
  type,
  schemaVersion: 1,
  customerId,
  occurredAt,
  data,
  ...(causationId === undefined ? {} : { causationId }),
});

async function append(customerId: string, events: RawEnvelope[]): Promise<number> {
  const r = await store.append(customerStream(customerId), events);
  if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
  await new Projector({ store, readModel }).catchUp();
  return store.headPosition();
}

/** A customer registered, answered a survey once, then silent: the engine (silence after 30 days) raises what it raises. */
async function silentCustomer(customerId: string): Promise<RawEnvelope[]> {
  const history = [
    envelope(customerId, 'CustomerRegistered', '2026-01-01T00:00:00Z', {
      segment: 'B2B',
      acquisitionChannel: 'partner',
    }),
    envelope(customerId, 'SurveyAnswered', '2026-01-05T00:00:00Z', {
      kind: 'NPS',
      score: 9,
      surveyId: 'sv1',
    }),
  ];
  await append(customerId, history);
  const derived = deriveSignals(
    customerId,
    history.map((e, i) => ({ position: i + 1, event: upcast(e)! })),
    '2026-03-01T00:00:00Z',
    {
      rules: resolveSignalRules({ healthBandChanged: { enabled: false }, churnRiskRose: { enabled: false } }),
      silentDays: 30,
      healthWeights: DEFAULT_HEALTH_WEIGHTS,
    },
  );
  const signals = derived.signals as unknown as RawEnvelope[];
  await append(customerId, signals);
  return signals;
}

const signalsOf = async (customerId: string, query = ''): Promise<SignalsBody> => {
  const res = await app.inject({ url: `/v1/customers/${customerId}/signals${query}`, headers: auth() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<SignalsBody>();
};

beforeAll(async () => {
  readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
  const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
  key = read.key;
  app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
  registerQueryRoutes(app, {
    store,
    readModel,
    keys: memoryApiKeyStore([read.record]),
    clock: fixedClock('2026-03-10T00:00:00Z'),
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await readModel.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signals of a customer, read from their stream', () => {
  let silent: RawEnvelope;
  let outreachId: string;
  let beforeOutreach: number;

  it('a customer who went silent has one open CustomerWentSilent, in the 360 and on its own route', async () => {
    const signals = await silentCustomer('c-sig-1');
    expect(signals.map((s) => s.type)).toEqual(['CustomerWentSilent']);
    silent = signals[0]!;
    const body = await signalsOf('c-sig-1');
    expect(body.signals).toHaveLength(1);
    expect(body.signals[0]).toMatchObject({
      signalId: silent.eventId,
      type: 'CustomerWentSilent',
      status: 'open',
      closedBy: null,
      closedByEventId: null,
      minutesToAction: null,
      data: { silentDays: 30 },
    });
    expect(body.summary).toMatchObject({ raised: 1, open: 1, acted: 0, actedSharePct: 0 });
    // the 360 at a cut (from its fold) and the live 360 (from the success view's success_signals rows, no read of
    // the stream) carry the same
    const c360 = await app.inject({ url: '/v1/customers/c-sig-1?asOf=2030-01-01', headers: auth() });
    expect(c360.statusCode).toBe(200);
    expect(c360.json<{ signals: { signals: Signal[] } }>().signals.signals).toEqual(body.signals);
    const live = await app.inject({ url: '/v1/customers/c-sig-1', headers: auth() });
    expect(live.statusCode).toBe(200);
    expect(live.json<{ signals: { signals: Signal[] } }>().signals.signals).toEqual(body.signals);
  });

  it('an outreach caused by the signal acts on it, with the minutes from signal to action', async () => {
    beforeOutreach = await store.headPosition();
    const at = new Date(Date.parse(silent.occurredAt) + 90 * 60_000).toISOString();
    const outreach = envelope(
      'c-sig-1',
      'OutreachMade',
      at,
      { kind: 'check_in', by: 'csm-2', channel: 'email' },
      silent.eventId,
    );
    outreachId = outreach.eventId;
    await append('c-sig-1', [outreach]);
    const body = await signalsOf('c-sig-1');
    expect(body.signals[0]).toMatchObject({
      status: 'acted',
      closedBy: 'OutreachMade',
      closedByEventId: outreachId,
      minutesToAction: 90,
    });
    expect(body.summary).toMatchObject({ raised: 1, open: 0, acted: 1, medianMinutesToAction: 90 });
    expect((await signalsOf('c-sig-1', '?status=open')).signals).toEqual([]);
    expect((await signalsOf('c-sig-1', '?status=acted')).signals).toHaveLength(1);
    expect((await signalsOf('c-sig-1', '?type=RenewalApproaching')).signals).toEqual([]);
  });

  it('as of a time before the outreach (business or ledger time) the signal is open again', async () => {
    const before = new Date(Date.parse(silent.occurredAt) + 60 * 60_000).toISOString();
    const asOf = await signalsOf('c-sig-1', `?asOf=${before}`);
    expect(asOf.signals.map((s) => s.status)).toEqual(['open']);
    const known = await signalsOf('c-sig-1', `?asKnownAt=${beforeOutreach}`);
    expect(known.asKnownAt).toBe(beforeOutreach);
    expect(known.signals.map((s) => s.status)).toEqual(['open']);
    // the 360 folded at the same cut says the same
    const c360 = await app.inject({ url: `/v1/customers/c-sig-1?asOf=${before}`, headers: auth() });
    const folded = c360.json<{ source: string; signals: { signals: Signal[] } }>();
    expect(folded.source).toBe('folded');
    expect(folded.signals.signals.map((s) => [s.signalId, s.status])).toEqual([[silent.eventId, 'open']]);
    // and before the signal was raised there is none
    expect((await signalsOf('c-sig-1', '?asOf=2026-01-06')).signals).toEqual([]);
  });

  it('a voided outreach acts on nothing: the signal is open again', async () => {
    await append('c-sig-1', [
      envelope('c-sig-1', 'EventVoided', '2026-03-05T00:00:00Z', { eventId: outreachId, reason: 'wrong' }),
    ]);
    expect((await signalsOf('c-sig-1')).signals.map((s) => s.status)).toEqual(['open']);
    const c360 = await app.inject({ url: '/v1/customers/c-sig-1?asOf=2026-03-09', headers: auth() });
    expect(c360.json<{ signals: { signals: Signal[] } }>().signals.signals[0]!.status).toBe('open');
  });

  it('a SignalAcknowledged dismissed makes it dismissed', async () => {
    const [signal] = await silentCustomer('c-sig-2');
    await append('c-sig-2', [
      envelope('c-sig-2', 'SignalAcknowledged', '2026-02-20T00:00:00Z', {
        signalId: signal!.eventId,
        signalType: 'CustomerWentSilent',
        by: 'csm-3',
        outcome: 'dismissed',
      }),
    ]);
    const body = await signalsOf('c-sig-2', '?status=dismissed');
    expect(body.signals.map((s) => [s.signalId, s.status, s.closedBy])).toEqual([
      [signal!.eventId, 'dismissed', 'SignalAcknowledged'],
    ]);
    expect(body.summary).toMatchObject({ raised: 1, dismissed: 1, acted: 0, medianMinutesToAction: null });
  });

  it('bad input is a 400 with the zod issues; an unknown customer is a 404', async () => {
    for (const query of ['?status=closed', '?type=Nope', '?asOf=yesterday', '?asKnownAt=1&asOfPosition=1']) {
      const res = await app.inject({ url: `/v1/customers/c-sig-1/signals${query}`, headers: auth() });
      expect(res.statusCode, query).toBe(400);
      const error = res.json<{ error: { code: string; issues?: { path: unknown[] }[] } }>().error;
      expect(error.code).toBe('invalid_request');
      if (query === '?status=closed') expect(error.issues?.[0]?.path).toEqual(['querystring', 'status']);
    }
    const unknown = await app.inject({ url: '/v1/customers/c-nobody/signals', headers: auth() });
    expect(unknown.statusCode).toBe(404);
    const early = await app.inject({ url: '/v1/customers/c-sig-1/signals?asOf=2025-01-01', headers: auth() });
    expect(early.statusCode).toBe(404);
    expect((await app.inject({ url: '/v1/customers/c-sig-1/signals' })).statusCode).toBe(401);
  });
});
