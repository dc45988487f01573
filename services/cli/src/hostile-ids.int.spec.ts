import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, type ReadModelStore, type Row } from '@crm-ledger/core';
import {
  EVENT_TYPES,
  definitionOf,
  looksLikeEmail,
  looksLikePhone,
  recordFrom,
  type EventType,
} from '@crm-ledger/events';
import { createHttpServer, generateApiKey, memoryApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import { registerIngestRoutes } from '@crm-ledger/ingest-api';
import { DEFAULT_TOPICS, decodeMessage, encodeEvent } from '@crm-ledger/kafka';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { Projector, replay } from '@crm-ledger/projector';
import { registerQueryRoutes } from '@crm-ledger/query-api';
import { openPostgresReadModelStore, type PostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore, type SqliteEventStore } from '@crm-ledger/sqlite';
import pg from 'pg';

/**
 * Issue #14, "Done when": ids drawn from every own property name of Object.prototype and Function.prototype,
 * `__proto__`, `prototype` and random strings, in every event type, go through the ingest API (append), the
 * projector into SQLite AND PostgreSQL read models, the query API and the Kafka encoder. Every view reaches
 * the head, equals a clean replay, and nothing is dropped (one ticket row per ticket opened, no anomaly).
 */
const PG_URL = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** An id in data (`Id`): no `@`, so an e-mail address is never an identifier. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
/** A customer id (`CustomerId` with the default policy `opaque`): `@` allowed, but not one that looks like contact details. */
const CUSTOMER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
const validCustomerId = (id: string): boolean =>
  CUSTOMER_ID_RE.test(id) && id.length <= 64 && !looksLikeEmail(id) && !looksLikePhone(id);
const SLUG_RE = /^[a-z0-9][a-z0-9_.-]*$/;
const PROTO_NAMES = [
  ...new Set([
    ...Object.getOwnPropertyNames(Object.prototype),
    ...Object.getOwnPropertyNames(Function.prototype),
    '__proto__',
    'prototype',
  ]),
];

const idArb = fc.oneof(
  fc.constantFrom(...PROTO_NAMES),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,12}$/),
);
const slugOf = (id: string): string =>
  SLUG_RE.test(id) ? id : SLUG_RE.test(id.toLowerCase()) ? id.toLowerCase() : 'other';

const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

/** The data of every event type, with `id` as every id it holds and `slug` as every label. */
function dataOf(type: EventType, id: string, slug: string): Record<string, unknown> {
  switch (type) {
    case 'CustomerRegistered':
      return { segment: 'B2B', acquisitionChannel: 'referral', companyName: id };
    case 'CustomerProfileUpdated':
      return { companyName: id, segment: 'B2C' };
    case 'CustomerErased':
      return { reason: 'customer_request', requestedBy: id };
    case 'PurchaseMade':
      return { orderId: id, amount: usd(1000), channel: 'web' };
    case 'RefundIssued':
      return { refundId: id, orderId: id, amount: usd(100) };
    case 'SubscriptionStarted':
      return { subscriptionId: id, plan: id, mrr: usd(5000), termMonths: 12, renewalDate: '2025-05-01' };
    case 'SubscriptionRenewed':
      return { subscriptionId: id, termMonths: 12, renewalDate: '2026-05-01' };
    case 'SubscriptionExpanded':
      return { subscriptionId: id, mrr: usd(7000), plan: id };
    case 'SubscriptionContracted':
      return { subscriptionId: id, mrr: usd(6000) };
    case 'SubscriptionCancelled':
      return { subscriptionId: id, reason: 'price' };
    case 'TicketOpened':
      return { ticketId: id, channel: 'chat', category: slug, priority: 'high' };
    case 'TicketReplied':
      return { ticketId: id, by: 'agent', agentId: id };
    case 'TicketEscalated':
      return { ticketId: id, toTier: 2 };
    case 'TicketResolved':
      return { ticketId: id, agentId: id };
    case 'TicketReopened':
      return { ticketId: id };
    case 'SuccessCriterionDefined':
      return { criterionId: id, description: id, targetDate: '2024-09-01' };
    case 'OutcomeAchieved':
      return { criterionId: id, evidence: id };
    case 'OnboardingMilestoneReached':
      return { milestone: 'account_setup' };
    case 'FeatureAdopted':
      return { feature: slug };
    case 'UsageRecorded':
      return {
        periodStart: '2024-05-01T00:00:00Z',
        periodEnd: '2024-05-31T00:00:00Z',
        activeUsers: 3,
        sessions: 40,
        feature: slug,
      };
    case 'TrainingCompleted':
      return { course: id, attendees: 2 };
    case 'OutreachMade':
      return { kind: 'check_in', by: id, channel: 'email' };
    case 'TouchpointInteracted':
      return { touchpoint: slug, channel: 'web', effort: 3, sentiment: 0.5 };
    case 'SurveyAnswered':
      return { kind: 'CSAT', score: 4, surveyId: id, ticketId: id, touchpoint: slug, channel: 'chat' };
    case 'FeedbackGiven':
      return { channel: 'web', topic: slug, sentiment: 0.2 };
    case 'EventVoided':
      // voids an event that was never recorded: no view may change, whatever the ids
      return { eventId: '9f1d2c3b-4a5e-4f60-8a7b-1c2d3e4f5a6b', reason: id, importId: id };
    case 'ExchangeRateRecorded':
      return { base: 'USD', quote: 'EUR', date: '2024-05-01', rate: '0.92' };
    case 'HealthBandChanged':
      return { from: 'green', to: 'yellow', scoreBefore: 72, score: 65, components: [] };
    case 'CustomerWentSilent':
      return { silentDays: 30, lastInteractionAt: '2024-04-01T08:00:00.000Z' };
    case 'RenewalApproaching':
      return {
        subscriptionId: id,
        renewalDate: '2024-06-01',
        daysBefore: 30,
        mrr: usd(5000),
        healthScore: 50,
        healthBand: 'yellow',
      };
    case 'TicketSlaBreached':
      return {
        ticketId: id,
        slaPolicy: slug,
        target: 'first_reply',
        targetMinutes: 60,
        dueAt: '2024-05-01T09:00:00.000Z',
      };
    case 'DetractorAnswered':
      return {
        surveyEventId: '9f1d2c3b-4a5e-4f60-8a7b-1c2d3e4f5a6c',
        surveyId: id,
        kind: 'NPS',
        score: 3,
        ticketId: id,
        touchpoint: slug,
      };
    case 'SuccessCriterionOverdue':
      return { criterionId: id, targetDate: '2024-04-30' };
    case 'ChurnRiskRose':
      return { from: 'low', to: 'medium', reasons: [{ reason: 'health_yellow', points: 15 }] };
    case 'ExpansionSuggested':
      return {
        usageEventId: '9f1d2c3b-4a5e-4f60-8a7b-1c2d3e4f5a6d',
        periodEnd: '2024-04-30T00:00:00.000Z',
        sessions: 300,
        previousSessions: 100,
        growthPct: 200,
      };
    case 'SignalAcknowledged':
      return {
        signalId: '9f1d2c3b-4a5e-4f60-8a7b-1c2d3e4f5a6e',
        signalType: 'CustomerWentSilent',
        by: id,
        outcome: 'acted',
      };
  }
}

/** Every type but the erasure (kept last so the story's views keep their rows), in a sensible order. */
const STORY: EventType[] = [...EVENT_TYPES.filter((t) => t !== 'CustomerErased'), 'CustomerErased'];

let serial = 0;
const uuid = () => `14000000-0000-4000-8000-${(++serial).toString(16).padStart(12, '0')}`;

function story(customerId: string, id: string): Record<string, unknown>[] {
  const slug = slugOf(id);
  return STORY.map((type, i) => ({
    eventId: uuid(),
    type,
    schemaVersion: definitionOf(type)?.latestVersion ?? 1,
    customerId,
    occurredAt: new Date(Date.UTC(2024, 4, 1, 8, i)).toISOString(),
    data: dataOf(type, id, slug),
  }));
}

async function dump(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out = new Map<string, readonly Row[]>();
  for (const name of PROJECTION_NAMES) {
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out.set(t.name, await readModel.sql({ sqlite: sql, postgres: sql }));
    }
  }
  return recordFrom(out);
}

describe('ids named like prototype members, through append, projector (SQLite and PostgreSQL), query API and Kafka encoder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostile-ids-'));
  const schema = `hostile_ids_${Math.random().toString(16).slice(2, 10)}`;
  let store: SqliteEventStore;
  let sqlite: SqliteReadModel;
  let postgres: PostgresReadModelStore;
  let ingest: HttpApp;
  let query: HttpApp;
  let appendKey: string;
  let readKey: string;
  /** Customer → ticket ids accepted for it. */
  const accepted = new Map<string, Set<string>>();

  beforeAll(async () => {
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
    sqlite = openSqliteReadModel({ file: path.join(dir, 'views.sqlite') });
    postgres = await openPostgresReadModelStore({ connectionString: PG_URL, schema, poolSize: 2 });
    // every story ends with CustomerErased, which needs the 'erase' scope besides 'append'
    const w = generateApiKey('writer', ['append', 'erase'], '2024-01-01T00:00:00Z');
    const r = generateApiKey('reader', ['read'], '2024-01-01T00:00:00Z');
    appendKey = w.key;
    readKey = r.key;
    const keys = memoryApiKeyStore([w.record, r.record]);
    ingest = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '1' });
    registerIngestRoutes(ingest, { store, keys });
    query = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '1' });
    registerQueryRoutes(query, { store, readModel: sqlite, keys, clock: fixedClock('2024-06-01T00:00:00Z') });
    await Promise.all([ingest.ready(), query.ready()]);
  });

  afterAll(async () => {
    await ingest.close();
    await query.close();
    await postgres.close();
    await sqlite.close();
    await store.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every view reaches the head after each append, nothing is dropped, and a clean replay gives the same rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(idArb, idArb), { minLength: 1, maxLength: 4 }),
        async (pairs) => {
          for (const [customerId, id] of pairs) {
            if (accepted.get(customerId)?.has(id) === true) continue;
            const events = story(customerId, id);
            const res = await ingest.inject({
              method: 'POST',
              url: `/v1/customers/${encodeURIComponent(customerId)}/events`,
              headers: { authorization: `Bearer ${appendKey}`, 'content-type': 'application/json' },
              payload: JSON.stringify({ events }),
            });
            if (validCustomerId(customerId) && ID_RE.test(id)) {
              expect(res.statusCode, res.body).toBe(201);
              const ids = accepted.get(customerId) ?? new Set<string>();
              ids.add(id);
              accepted.set(customerId, ids);
            } else {
              // `__proto__`, `__defineGetter__`... (starts with `_`), an id with `@`, a customer id like an e-mail
              // address or a phone number: a clear 4xx, nothing written.
              expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
              expect(res.statusCode, res.body).toBeLessThan(500);
            }
          }
          const head = await store.headPosition();
          const reached = await Promise.all(
            [sqlite, postgres].map((readModel) =>
              new Projector({ store, readModel, batchSize: 37 }).catchUp(),
            ),
          );
          expect(reached).toEqual([head, head]);
        },
      ),
      { numRuns: 12 },
    );

    // Nothing dropped: one ticket row per ticket accepted, and no anomaly anywhere (every story is well formed).
    const views = await dump(sqlite);
    const tickets = views['service_tickets']!.map(
      (r) => `${String(r['customer_id'])}/${String(r['ticket_id'])}`,
    );
    const expectedTickets = [...accepted].flatMap(([c, ids]) => [...ids].map((t) => `${c}/${t}`));
    expect([...tickets].sort()).toEqual([...expectedTickets].sort());
    for (const name of PROJECTION_NAMES) expect(views[`${name}_anomalies`], name).toEqual([]);
    expect(
      views['value_customers']!.every((r) => Number(r['mrr_minor']) === 0 || Number(r['mrr_minor']) === 6000),
    ).toBe(true);
    expect(views['value_months']!.some((r) => r['mrr_end_minor'] !== null)).toBe(true);

    // PostgreSQL has the same rows as SQLite; a clean replay gives the same rows as the incremental runs.
    expect(await dump(postgres)).toEqual(views);
    const clean = openSqliteReadModel({ file: path.join(dir, 'clean.sqlite') });
    await replay({ store, readModel: clean });
    expect(await dump(clean)).toEqual(views);
    await clean.close();

    // The query API serves every accepted customer, with every ticket.
    for (const [customerId, ids] of accepted) {
      const res = await query.inject({
        url: `/v1/customers/${encodeURIComponent(customerId)}`,
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ service: { tickets: { ticket_id: string }[] } }>();
      expect(body.service.tickets.map((t) => t.ticket_id).sort()).toEqual([...ids].sort());
    }

    // The Kafka encoder publishes every stored event, and a consumer decodes it back.
    for await (const page of store.readAll({ after: 0, batchSize: 1_000 })) {
      for (const stored of page) {
        const encoded = encodeEvent(stored, DEFAULT_TOPICS);
        if (E.isLeft(encoded)) throw new Error(encoded.left.reason);
        const m = encoded.right;
        const decoded = decodeMessage({
          topic: m.topic,
          partition: 0,
          offset: '0',
          key: Buffer.from(m.key),
          value: Buffer.from(m.value),
          headers: m.headers,
        });
        if (E.isLeft(decoded)) throw new Error(JSON.stringify(decoded.left));
        expect(decoded.right.event.customerId).toBe(stored.event.customerId);
        expect(decoded.right.event.data).toMatchObject(
          Object.fromEntries(
            Object.entries(stored.event.data as object).filter(([k]) => !decoded.right.redacted.includes(k)),
          ),
        );
      }
    }
  }, 300_000);
});
