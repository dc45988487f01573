import * as E from 'fp-ts/lib/Either.js';
import { Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@crm-ledger/core';
import { createKafka } from './client.js';
import { HEADERS } from './headers.js';
import { silentLogger } from './logger.js';
import { connectKafkaPublisher, type EventPublisher } from './publisher.js';
import { readTopicsToEnd } from './read-topics.js';
import { runRelay } from './relay.js';
import { testBrokers, uniquePrefix } from './test-broker.js';
import { sampleHistory } from './test-fixtures.js';
import { appendInterleaved, tempLedger } from './test-ledger.js';
import { allTopics, type TopicConfig } from './topics.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  layout: TopicConfig['layout'] = 'per-area',
  validation: 'catalogue' | 'envelope' = 'catalogue',
) {
  const ledger = tempLedger(validation);
  const kafka = createKafka({ brokers: testBrokers(), clientId: 'relay-spec', logger: silentLogger });
  const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 3 });
  const topics: TopicConfig = { prefix: uniquePrefix('relay'), layout };
  cleanups.push(async () => {
    await publisher.close();
    await ledger.close();
  });
  return { ledger, kafka, publisher, topics };
}

async function allStored(ledger: ReturnType<typeof tempLedger>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const page of ledger.store.readAll()) out.push(...page);
  return out;
}

describe('runRelay against a real broker', () => {
  it('publishes every event once, keyed by customer, in ledger order per customer, and advances the checkpoint', async () => {
    const { ledger, kafka, publisher, topics } = await setup();
    const count = await appendInterleaved(ledger.store, sampleHistory(40));
    const relay = () =>
      runRelay({
        name: 'spec',
        store: ledger.store,
        checkpoints: ledger.checkpoints,
        publisher,
        topics,
        logger: silentLogger,
        mode: 'catch-up',
        batchSize: 64,
        maxSendBytes: 8_000,
      });

    expect(await relay()).toEqual(E.right({ position: count, published: count }));
    expect(await ledger.checkpoints.load('spec')).toBe(count);

    const more = await appendInterleaved(ledger.store, sampleHistory(5, 1000));
    expect(await relay()).toEqual(E.right({ position: count + more, published: more }));

    const records = await readTopicsToEnd(kafka, allTopics(topics));
    const stored = await allStored(ledger);
    expect(records).toHaveLength(stored.length);
    expect(new Set(records.map((r) => r.headers[HEADERS.id]))).toEqual(
      new Set(stored.map((s) => s.event.eventId)),
    );

    // Per customer and topic: one partition, offsets in ledger order.
    for (const r of records) {
      expect(r.key).toBe(r.headers[HEADERS.subject]);
      const sameTopicSameCustomer = records.filter((o) => o.key === r.key && o.topic === r.topic);
      expect(new Set(sameTopicSameCustomer.map((o) => o.partition)).size).toBe(1);
      const positions = sameTopicSameCustomer
        .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))
        .map((o) => Number(o.headers[HEADERS.globalPosition]));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
    expect(new Set(records.map((r) => r.key)).size).toBe(45);
    // No personal data in clear.
    expect(records.some((r) => r.value!.includes('Ada Lovelace') || r.value!.includes('invoice'))).toBe(
      false,
    );
  });

  it('with several producers, each owning a set of partitions, puts every customer in its murmur2 partition, in ledger order', async () => {
    const ledger = tempLedger('catalogue');
    const kafka = createKafka({ brokers: testBrokers(), clientId: 'relay-spec', logger: silentLogger });
    const publisher = await connectKafkaPublisher({
      kafka,
      logger: silentLogger,
      partitions: 6,
      producers: 3,
    });
    const topics: TopicConfig = { prefix: uniquePrefix('relay-producers'), layout: 'single' };
    cleanups.push(async () => {
      await publisher.close();
      await ledger.close();
    });
    const count = await appendInterleaved(ledger.store, sampleHistory(40));
    const result = await runRelay({
      name: 'producers',
      store: ledger.store,
      checkpoints: ledger.checkpoints,
      publisher,
      topics,
      logger: silentLogger,
      mode: 'catch-up',
      batchSize: 100,
    });
    expect(result).toEqual(E.right({ position: count, published: count }));

    const records = await readTopicsToEnd(kafka, allTopics(topics));
    expect(records).toHaveLength(count);
    // The partition kafkajs's default (murmur2, the Java client's) partitioner gives the key, as with one producer.
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2, 3, 4, 5].map((partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (const r of records)
      expect(r.partition).toBe(
        partitioner({ topic: r.topic, partitionMetadata, message: { key: r.key, value: null } }),
      );
    expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(3);
    for (const key of new Set(records.map((r) => r.key))) {
      const positions = records
        .filter((r) => r.key === key)
        .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))
        .map((r) => Number(r.headers[HEADERS.globalPosition]));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
  });

  it('in follow mode publishes events appended while it runs, and stops when aborted', async () => {
    const { ledger, kafka, publisher, topics } = await setup('single');
    await appendInterleaved(ledger.store, sampleHistory(3));
    const controller = new AbortController();
    const seen: number[] = [];
    const running = runRelay({
      name: 'follow',
      store: ledger.store,
      checkpoints: ledger.checkpoints,
      publisher,
      topics,
      logger: silentLogger,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.position);
        if (p.position === 16) controller.abort();
      },
    });
    await appendInterleaved(ledger.store, sampleHistory(1, 500));
    const result = await running;
    expect(result).toEqual(E.right({ position: 16, published: 16 }));
    expect(seen.at(-1)).toBe(16);
    const records = await readTopicsToEnd(kafka, allTopics(topics));
    expect(records.map((r) => Number(r.headers[HEADERS.globalPosition])).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
  });

  it('stops with PublishFailed, without moving the checkpoint, when the broker refuses the events', async () => {
    const { ledger, publisher, topics } = await setup();
    await appendInterleaved(ledger.store, sampleHistory(2));
    // Topics never created and auto-creation is off on the broker: every send fails.
    const noTopics: EventPublisher = { ...publisher, ensureTopics: () => Promise.resolve() };
    const kafka = createKafka({
      brokers: testBrokers(),
      clientId: 'relay-spec-fail',
      logger: silentLogger,
      retries: 1,
      maxRetryTimeMs: 500,
    });
    const failing = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 1, retries: 1 });
    cleanups.push(() => failing.close());
    const result = await runRelay({
      name: 'fail',
      store: ledger.store,
      checkpoints: ledger.checkpoints,
      publisher: { ...failing, ensureTopics: noTopics.ensureTopics },
      topics,
      logger: silentLogger,
      mode: 'catch-up',
    });
    expect(result).toMatchObject({
      _tag: 'Left',
      left: { type: 'PublishFailed', fromPosition: 1, toPosition: 8 },
    });
    expect(await ledger.checkpoints.load('fail')).toBe(0);
  });

  it('stops at an event it cannot publish, with everything before it published and checkpointed', async () => {
    // A ledger newer than this relay: it holds a type the relay's catalogue does not know.
    const { ledger, publisher, topics, kafka } = await setup('per-area', 'envelope');
    await appendInterleaved(ledger.store, sampleHistory(2));
    const future = { ...sampleHistory(1, 900)[0]!.events[0]!, type: 'CustomerTeleported', data: {} };
    await ledger.store.append('customer-c-900', [future]);
    await appendInterleaved(ledger.store, sampleHistory(1, 901));
    const result = await runRelay({
      name: 'unknown',
      store: ledger.store,
      checkpoints: ledger.checkpoints,
      publisher,
      topics,
      logger: silentLogger,
      mode: 'catch-up',
      batchSize: 3,
    });
    expect(result).toMatchObject({
      _tag: 'Left',
      left: { type: 'UnpublishableEvent', globalPosition: 9, eventType: 'CustomerTeleported' },
    });
    expect(await ledger.checkpoints.load('unknown')).toBe(8);
    const records = await readTopicsToEnd(kafka, allTopics(topics));
    expect(records.map((r) => Number(r.headers[HEADERS.globalPosition])).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('stops with CheckpointFailed when the checkpoint cannot be saved after a send', async () => {
    const { ledger, publisher, topics } = await setup();
    await appendInterleaved(ledger.store, sampleHistory(1));
    const result = await runRelay({
      name: 'broken',
      store: ledger.store,
      checkpoints: {
        load: () => Promise.resolve(0),
        save: () => Promise.reject(new Error('disk full')),
        close: () => Promise.resolve(),
      },
      publisher,
      topics,
      logger: silentLogger,
      mode: 'catch-up',
    });
    expect(result).toMatchObject({
      _tag: 'Left',
      left: { type: 'CheckpointFailed', position: 4, message: 'disk full' },
    });
  });
});
