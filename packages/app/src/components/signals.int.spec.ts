import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Clock, StoredEvent } from '@crm-ledger/core';
import { customerStream, definitionOf, isSignalAreaType, type RawEnvelope } from '@crm-ledger/events';
import { DEFAULT_HEALTH_WEIGHTS, resolveSignalRules } from '@crm-ledger/projections';
import {
  HEADERS,
  allTopics,
  connectKafkaPublisher,
  createKafka,
  readTopicsToEnd,
  runRelay,
  silentLogger,
  topicOfArea,
} from '@crm-ledger/kafka';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { SignalRunner } from './signals.js';

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A clock the test moves. */
const movable = (start: string) => {
  let now = start;
  const clock: Clock = { now: () => now };
  return { clock, set: (t: string) => (now = t) };
};

let n = 0;
const event = (customerId: string, type: string, occurredAt: string, data: unknown): RawEnvelope => ({
  eventId: `00000000-0000-4000-8000-${(++n).toString().padStart(12, '0')}`,
  type,
  schemaVersion: definitionOf(type)?.latestVersion ?? 1,
  customerId,
  occurredAt,
  data,
});

async function append(store: ReturnType<typeof openSqliteEventStore>, events: RawEnvelope[]) {
  const r = await store.append(customerStream(events[0]!.customerId), events);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
}

async function signalsIn(store: ReturnType<typeof openSqliteEventStore>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const page of store.readAll()) out.push(...page.filter((s) => isSignalAreaType(s.event.type)));
  return out;
}

async function seed(store: ReturnType<typeof openSqliteEventStore>): Promise<void> {
  await append(store, [
    event('quiet', 'CustomerRegistered', '2024-01-01T00:00:00Z', {
      segment: 'B2B',
      acquisitionChannel: 'partner',
    }),
    event('quiet', 'TouchpointInteracted', '2024-01-10T00:00:00Z', { touchpoint: 'app', channel: 'web' }),
  ]);
  await append(store, [
    event('renewing', 'SubscriptionStarted', '2024-01-05T00:00:00Z', {
      subscriptionId: 's1',
      plan: 'pro',
      mrr: { amountMinor: 90_000, currency: 'EUR' },
      termMonths: 1,
      renewalDate: '2024-02-20',
    }),
  ]);
  await append(store, [
    event('waiting', 'TicketOpened', '2024-01-20T09:00:00Z', {
      ticketId: 't1',
      channel: 'email',
      category: 'billing',
      priority: 'high',
      slaPolicy: { name: 'gold', firstReplyMinutes: 60, resolutionMinutes: 100_000 },
    }),
  ]);
}

const options = {
  rules: resolveSignalRules({ healthBandChanged: { enabled: false }, churnRiskRose: { enabled: false } }),
  silentDays: 30,
  healthWeights: DEFAULT_HEALTH_WEIGHTS,
};

describe('SignalRunner: the engine over a real SQLite ledger, the clock as input', () => {
  it('appends one "went silent" when the clock passes N days, one "renewal approaching", one "SLA breached"; later passes and a replay from 0 append nothing twice', async () => {
    const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite') });
    await seed(store);
    const time = movable('2024-01-15T00:00:00.000Z');
    const runner = new SignalRunner(store, time.clock, options);
    expect((await runner.runOnce()).appended).toBe(0);
    expect(await signalsIn(store)).toEqual([]);

    time.set('2024-02-10T00:00:00.000Z');
    const r = await runner.runOnce();
    expect(r.failed).toEqual([]);
    const first = await signalsIn(store);
    expect(first.map((s) => [s.event.customerId, s.event.type]).sort()).toEqual([
      ['quiet', 'CustomerWentSilent'],
      ['renewing', 'CustomerWentSilent'],
      ['renewing', 'RenewalApproaching'],
      ['waiting', 'TicketSlaBreached'],
    ]);
    expect(r.appended).toBe(4);
    const renewal = first.find((s) => s.event.type === 'RenewalApproaching')!.event;
    expect(renewal.occurredAt).toBe('2024-01-21T00:00:00.000Z');
    expect(renewal.data).toMatchObject({ daysBefore: 30, mrr: { amountMinor: 90_000, currency: 'EUR' } });

    // the clock moves on: the same signals are not raised again; the ticket's customer is quiet for N days too
    time.set('2024-02-20T00:00:00.000Z');
    await runner.runOnce();
    const second = await signalsIn(store);
    expect(second.slice(0, 4)).toEqual(first);
    expect(second.slice(4).map((s) => [s.event.customerId, s.event.type])).toEqual([
      ['waiting', 'CustomerWentSilent'],
    ]);

    // a replay from position 0 (a new runner, a restart) at the same time appends nothing: same ids
    const replay = new SignalRunner(store, time.clock, options);
    expect(await replay.runOnce()).toEqual({ customers: 3, appended: 0, failed: [] });
    expect(await signalsIn(store)).toEqual(second);
    await store.close();
  });
});

describe('signals on Kafka: the relay publishes them to the signals topic (real broker)', () => {
  it('puts exactly one of each signal on <prefix>.signals, keyed by customer; a replay from position 0 adds no new id', async () => {
    const store = openSqliteEventStore({ file: path.join(dir, 'kafka-ledger.sqlite') });
    const checkpoints = openSqliteCheckpointStore(path.join(dir, 'kafka-checkpoints.sqlite'));
    const kafka = createKafka({
      brokers: inject('kafkaBrokers').split(','),
      clientId: 'signals-spec',
      logger: silentLogger,
    });
    const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 3 });
    const topics = {
      prefix: `test-signals-${process.pid}-${Date.now().toString(36)}`,
      layout: 'per-area' as const,
    };
    const relay = (name: string) =>
      runRelay({ name, store, checkpoints, publisher, topics, logger: silentLogger, mode: 'catch-up' });
    try {
      await seed(store);
      const time = movable('2024-02-10T00:00:00.000Z');
      expect((await new SignalRunner(store, time.clock, options).runOnce()).appended).toBe(4);
      expect(E.isRight(await relay('spec'))).toBe(true);
      expect(allTopics(topics)).toContain(`${topics.prefix}.signals`);
      const signalsTopic = topicOfArea(topics, 'signals');
      const first = await readTopicsToEnd(kafka, [signalsTopic]);
      const stored = await signalsIn(store);
      expect(first.map((r) => [r.key, r.headers[HEADERS.type]]).sort()).toEqual([
        ['quiet', 'CustomerWentSilent'],
        ['renewing', 'CustomerWentSilent'],
        ['renewing', 'RenewalApproaching'],
        ['waiting', 'TicketSlaBreached'],
      ]);
      expect(new Set(first.map((r) => r.headers[HEADERS.id]))).toEqual(
        new Set(stored.map((s) => s.event.eventId)),
      );
      // no signal on the other topics: they carry the customers' own events only
      const others = await readTopicsToEnd(
        kafka,
        allTopics(topics).filter((t) => t !== signalsTopic),
      );
      expect(others.some((r) => isSignalAreaType(r.headers[HEADERS.type] ?? ''))).toBe(false);

      // the engine replayed from position 0 at the same time appends nothing; the relay then publishes nothing
      expect((await new SignalRunner(store, time.clock, options).runOnce()).appended).toBe(0);
      expect(await relay('spec')).toEqual(E.right({ position: await store.headPosition(), published: 0 }));
      // a relay replayed from position 0 (a new checkpoint) re-sends at least once: the same ids, none new
      expect(E.isRight(await relay('replay-from-0'))).toBe(true);
      const after = await readTopicsToEnd(kafka, [signalsTopic]);
      expect(after).toHaveLength(first.length * 2);
      expect(new Set(after.map((r) => r.headers[HEADERS.id]))).toEqual(
        new Set(first.map((r) => r.headers[HEADERS.id])),
      );
    } finally {
      await publisher.close();
      await checkpoints.close();
      await store.close();
    }
  });
});
