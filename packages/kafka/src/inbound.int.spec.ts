import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from './client.js';
import { DEAD_LETTER_HEADERS, startInboundConsumer } from './inbound.js';
import { silentLogger } from './logger.js';
import { connectKafkaPublisher, relayProducer } from './publisher.js';
import { readTopicsToEnd } from './read-topics.js';
import { testBrokers, uniquePrefix } from './test-broker.js';
import { sampleHistory } from './test-fixtures.js';
import { tempLedger } from './test-ledger.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const waitFor = async (condition: () => boolean, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('startInboundConsumer', () => {
  it('appends valid interactions once, even when redelivered, and dead-letters invalid ones with the reason', async () => {
    const ledger = tempLedger();
    const kafka = createKafka({ brokers: testBrokers(), clientId: 'inbound-spec', logger: silentLogger });
    const prefix = uniquePrefix('inbound');
    const topic = `${prefix}.inbound`;
    const deadLetterTopic = `${prefix}.inbound.dlq`;
    const admin = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 2 });
    await admin.ensureTopics([topic, deadLetterTopic]);
    await admin.close();
    const producer = relayProducer(kafka);
    await producer.connect();
    cleanups.push(async () => {
      await producer.disconnect();
      await ledger.close();
    });

    const events = sampleHistory(3).flatMap((h) => h.events);
    const valid = events.map((e) => ({ key: e.customerId, value: JSON.stringify(e) }));
    const conflicting = {
      ...events[1]!,
      data: { orderId: 'other', amount: { amountMinor: 1, currency: 'EUR' } },
    };
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...valid,
        valid[0]!, // a redelivery
        { key: 'c-x', value: 'not json' },
        { key: 'c-x', value: JSON.stringify({ ...events[0]!, eventId: crypto.randomUUID(), type: 'Nope' }) },
        { key: 'c-0', value: JSON.stringify(conflicting) },
      ],
    });

    const inbound = await startInboundConsumer({
      kafka,
      store: ledger.store,
      groupId: `${prefix}-inbound`,
      topic,
      deadLetterTopic,
      logger: silentLogger,
    });
    cleanups.push(() => inbound.stop());
    await waitFor(
      () => inbound.stats.appended + inbound.stats.duplicate + inbound.stats['dead-lettered'] === 16,
    );

    expect(inbound.stats).toEqual({ appended: 12, duplicate: 1, 'dead-lettered': 3 });
    expect(await ledger.store.headPosition()).toBe(12);
    const dead = await readTopicsToEnd(kafka, [deadLetterTopic]);
    expect(dead.map((d) => d.headers[DEAD_LETTER_HEADERS.reason]).sort()).toEqual([
      'idempotency_conflict',
      'invalid_event',
      'not_json',
    ]);
    const unknownType = dead.find((d) => d.headers[DEAD_LETTER_HEADERS.reason] === 'invalid_event')!;
    expect(JSON.parse(unknownType.headers[DEAD_LETTER_HEADERS.issues]!)).toMatchObject([
      { path: ['type'], code: 'unknown_event_type' },
    ]);
    expect(unknownType.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(topic);
    expect(unknownType.value).toContain('"Nope"');
  });
});
