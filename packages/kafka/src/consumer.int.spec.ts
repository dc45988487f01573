import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { CheckpointStore } from '@crm-ledger/core';
import { createKafka } from './client.js';
import { startEventConsumer } from './consumer.js';
import { HEADERS } from './headers.js';
import { silentLogger } from './logger.js';
import { connectKafkaPublisher } from './publisher.js';
import { runRelay } from './relay.js';
import { testBrokers, uniquePrefix } from './test-broker.js';
import { sampleHistory } from './test-fixtures.js';
import { appendInterleaved, tempLedger } from './test-ledger.js';
import { allTopics, topicOfArea, type TopicConfig } from './topics.js';

const run = promisify(execFile);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A ledger of `customers` sample customers relayed to fresh topics. */
async function relayed(customers: number) {
  const ledger = tempLedger();
  const kafka = createKafka({ brokers: testBrokers(), clientId: 'consumer-spec', logger: silentLogger });
  const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 2 });
  const topics: TopicConfig = { prefix: uniquePrefix('consumer'), layout: 'per-area' };
  cleanups.push(async () => {
    await publisher.close();
    await ledger.close();
  });
  await appendInterleaved(ledger.store, sampleHistory(customers));
  const relay = (checkpoints: CheckpointStore = ledger.checkpoints) =>
    runRelay({
      name: 'spec',
      store: ledger.store,
      checkpoints,
      publisher,
      topics,
      logger: silentLogger,
      mode: 'catch-up',
    });
  const result = await relay();
  expect(result._tag).toBe('Right');
  return { ledger, kafka, publisher, topics, relay };
}

describe('startEventConsumer', () => {
  it('hands typed, upcast events to their handlers and skips the duplicates a relay crash leaves', async () => {
    const { kafka, topics, relay } = await relayed(10);
    // A crash after the broker's ack but before the checkpoint was saved: the relay publishes everything again.
    const forgetful: CheckpointStore = {
      load: () => Promise.resolve(0),
      save: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    expect((await relay(forgetful))._tag).toBe('Right');

    const open = new Map<string, Set<string>>();
    const consumer = await startEventConsumer({
      kafka,
      groupId: `${topics.prefix}-view`,
      topics: [topicOfArea(topics, 'service')],
      logger: silentLogger,
      handlers: {
        TicketOpened: (e) => {
          expect(e.data.priority).toBe('normal');
          const set = open.get(e.customerId) ?? new Set();
          set.add(e.data.ticketId);
          open.set(e.customerId, set);
        },
        TicketResolved: (e) => void open.get(e.customerId)?.delete(e.data.ticketId),
      },
    });
    cleanups.push(() => consumer.stop());
    await consumer.caughtUp();
    expect(consumer.stats).toEqual({ handled: 20, unhandled: 0, duplicate: 20, invalid: 0 });
    expect([...open.values()].every((s) => s.size === 0)).toBe(true);
    expect(open.size).toBe(10);
  });

  it("Kafka's own console consumer reads a relayed message: key, headers and the event JSON", async () => {
    const { topics } = await relayed(1);
    const { stdout } = await run(
      'java',
      [
        '-cp',
        `${inject('kafkaJars')}/*`,
        '-Dlog4j.configuration=file:/dev/null',
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server',
        testBrokers()[0]!,
        '--topic',
        topicOfArea(topics, 'revenue'),
        '--from-beginning',
        '--max-messages',
        '1',
        '--timeout-ms',
        '30000',
        '--property',
        'print.key=true',
        '--property',
        'print.headers=true',
        '--property',
        'key.separator=|',
        '--property',
        'headers.separator=;',
      ],
      { timeout: 60_000 },
    );
    const line = stdout.split('\n').find((l) => l.includes('|c-0|'));
    expect(line).toBeDefined();
    const [headers, key, value] = line!.split('|');
    expect(key).toBe('c-0');
    expect(headers).toContain(`${HEADERS.type}:PurchaseMade`);
    expect(headers).toContain(`${HEADERS.subject}:c-0`);
    expect(JSON.parse(value!)).toMatchObject({
      type: 'PurchaseMade',
      customerId: 'c-0',
      data: { orderId: 'o-0', amount: { amountMinor: 1999, currency: 'EUR' } },
    });
    expect(allTopics(topics)).toContain(topicOfArea(topics, 'revenue'));
  });
});
