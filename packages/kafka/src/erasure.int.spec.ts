import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { encryptingEventStore, PiiVault } from '@crm-ledger/pii';
import { openSqliteKeyStore } from '@crm-ledger/sqlite';
import { createKafka } from './client.js';
import { HEADERS } from './headers.js';
import { appendInbound } from './inbound.js';
import { silentLogger } from './logger.js';
import { connectKafkaPublisher } from './publisher.js';
import { readTopicsToEnd } from './read-topics.js';
import { runRelay } from './relay.js';
import { testBrokers, uniquePrefix } from './test-broker.js';
import { tempLedger } from './test-ledger.js';
import { allTopics, type TopicConfig } from './topics.js';

const PERSON = {
  name: 'Philomena Quackenbush-Zyx',
  email: 'philomena.zyx@erasure-test.example',
  text: 'wobbleflange broke',
};
const SECRETS = [...Object.values(PERSON), 'Philomena', 'wobbleflange'];

const ev = (
  customerId: string,
  type: string,
  data: unknown,
  occurredAt = '2024-01-02T10:00:00.000Z',
): RawEnvelope => ({
  eventId: randomUUID(),
  type,
  schemaVersion: 1,
  customerId,
  occurredAt,
  data,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('Kafka and erasure (real broker, real SQLite ledger and key store)', () => {
  it('no message on any topic holds personal data, before or after the erasure; the relay names what it dropped', async () => {
    const ledger = tempLedger('catalogue');
    const keys = openSqliteKeyStore({ file: path.join(ledger.dir, 'keys.db'), masterKey: randomBytes(32) });
    const store = encryptingEventStore(ledger.store, new PiiVault(keys), { validate: true });
    const kafka = createKafka({ brokers: testBrokers(), clientId: 'erasure-spec', logger: silentLogger });
    const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 2 });
    cleanups.push(async () => {
      await publisher.close();
      await keys.close();
      await ledger.close();
    });
    const topics: TopicConfig = { prefix: uniquePrefix('erasure'), layout: 'per-area' };
    const victim = 'kafka-victim';
    const history = [
      ev(victim, 'CustomerRegistered', {
        segment: 'B2C',
        acquisitionChannel: 'referral',
        name: PERSON.name,
        email: PERSON.email,
      }),
      ev(victim, 'FeedbackGiven', { channel: 'email', sentiment: -0.5, text: PERSON.text }),
      ev(victim, 'PurchaseMade', { orderId: 'o-1', amount: { amountMinor: 500, currency: 'EUR' } }),
    ];
    expect(E.isRight(await store.append(customerStream(victim), history))).toBe(true);
    const relay = () =>
      runRelay({
        name: 'erasure-spec',
        store,
        checkpoints: ledger.checkpoints,
        publisher,
        topics,
        logger: silentLogger,
        mode: 'catch-up',
        batchSize: 16,
      });
    expect(E.isRight(await relay())).toBe(true);
    expect(
      E.isRight(
        await store.append(customerStream(victim), [
          ev(victim, 'CustomerErased', { reason: 'legal_order' }, '2024-02-01T00:00:00.000Z'),
        ]),
      ),
    ).toBe(true);

    // inbound after the erasure: a new fact about the erased customer is dead-lettered with a clear reason
    const late = Buffer.from(
      JSON.stringify(ev(victim, 'FeedbackGiven', { channel: 'web', text: PERSON.text })),
    );
    expect(await appendInbound(store, late)).toMatchObject(E.left({ reason: 'customer_erased' }));
    // and a personal event of another customer arriving inbound is stored encrypted
    const other = ev('kafka-other', 'FeedbackGiven', { channel: 'web', text: 'another wobbleflange story' });
    expect(await appendInbound(store, Buffer.from(JSON.stringify(other)))).toEqual(E.right('appended'));
    const stored = await store.readStream(customerStream('kafka-other'));
    expect(E.isRight(stored) && (stored.right[0]!.event.data as { text: string }).text).toMatch(/^enc:v1:/);

    expect(E.isRight(await relay())).toBe(true);
    const records = await readTopicsToEnd(kafka, allTopics(topics));
    expect(records).toHaveLength(5);
    const everything = JSON.stringify(records);
    expect(SECRETS.filter((s) => everything.includes(s))).toEqual([]);
    expect(everything).not.toContain('enc:v1:'); // not even the ciphertext leaves the ledger
    const registration = records.find((r) => r.headers[HEADERS.type] === 'CustomerRegistered')!;
    expect(registration.headers[HEADERS.redacted]).toBe('name,email');
    expect(records.map((r) => r.headers[HEADERS.type]).sort()).toEqual(
      ['CustomerErased', 'CustomerRegistered', 'FeedbackGiven', 'FeedbackGiven', 'PurchaseMade'].sort(),
    );
  });
});
