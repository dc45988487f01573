import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CloudEvent, Kafka, ValidationError, type KafkaMessage } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { GENESIS_LINK, type StoredEvent } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { encodeEvent, type OutgoingMessage } from './encode.js';
import { HEADERS, dataSchemaOf } from './headers.js';
import { canaryEvents } from './test-canary.js';
import { DEFAULT_TOPICS } from './topics.js';

const SCHEMAS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/schemas');

const stored = (event: RawEnvelope, i: number): StoredEvent => ({
  globalPosition: i + 1,
  streamName: `customer-${event.customerId}`,
  revision: 0,
  recordedAt: '2025-02-01T00:00:00.000Z',
  event,
  hash: GENESIS_LINK,
});

function encode(s: StoredEvent): OutgoingMessage {
  const result = encodeEvent(s, DEFAULT_TOPICS);
  if (E.isLeft(result)) throw new Error(result.left.reason);
  return result.right;
}

/** Reads a message with the CloudEvents SDK's Kafka binding, then validates it strictly (throws on any defect). */
function asCloudEvent(m: OutgoingMessage): CloudEvent<unknown> {
  const message: KafkaMessage<Buffer> = {
    key: m.key,
    value: Buffer.from(m.value),
    headers: { ...m.headers },
    body: m.value,
  };
  const event = Kafka.toEvent(message) as CloudEvent<unknown>;
  try {
    event.validate();
  } catch (error) {
    const errors = error instanceof ValidationError ? JSON.stringify(error.errors) : '';
    throw new Error(`${m.headers[HEADERS.type]}: ${(error as Error).message} ${errors}`);
  }
  return event;
}

const events = canaryEvents();

describe('every published message is a valid CloudEvent of the Kafka protocol binding (cloudevents SDK)', () => {
  it.each(events.map((e, i) => [`${e.type} v${e.schemaVersion}`, i] as const))(
    '%s: binary mode, strictly validated',
    (_name, i) => {
      const message = encode(stored(events[i]!, i));
      const ce = asCloudEvent(message);
      const event = events[i]!;
      expect(ce.specversion).toBe('1.0');
      expect(ce.id).toBe(event.eventId);
      expect(ce.type).toBe(event.type);
      expect(ce.subject).toBe(event.customerId);
      expect(ce.datacontenttype).toBe('application/json');
      expect(ce['partitionkey']).toBe(event.customerId);
      expect(new Date(ce.time!).toISOString()).toBe(new Date(event.occurredAt).toISOString());
      // the extension attributes the SDK found are ours, with valid names
      expect(ce['schemaversion']).toBe(String(event.schemaVersion));
      expect(ce['correlationid']).toBe(event.correlationId);
      expect(ce['globalposition']).toBe(String(i + 1));
    },
  );

  it.each(events.map((e, i) => [`${e.type} v${e.schemaVersion}`, i] as const))(
    '%s: ce_dataschema names the checked-in JSON Schema of its type and version',
    (_name, i) => {
      const event = events[i]!;
      const header = encode(stored(event, i)).headers[HEADERS.dataSchema]!;
      expect(header).toBe(dataSchemaOf(event.type, event.schemaVersion));
      const file = path.join(SCHEMAS, `${event.type}.v${event.schemaVersion}.schema.json`);
      const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { $id: string; title: string };
      expect(schema.$id).toBe(header);
      expect(schema.title).toBe(`${event.type} v${event.schemaVersion}`);
    },
  );

  it.each([
    [undefined, '/crm-ledger'],
    ['shop', '/crm-ledger/shop'],
    ['https://shop.example/orders?id=1', '/crm-ledger/https://shop.example/orders?id=1'],
    // stored before sources had to be URI-references (a CSV file name): escaped, still a valid URI-reference
    ['orders 2024 (März).csv', '/crm-ledger/orders%202024%20(M%C3%A4rz).csv'],
    ['50% off', '/crm-ledger/50%25%20off'],
    ['already%20escaped', '/crm-ledger/already%20escaped'],
  ])('ce_source of source %s is the URI-reference %s', (source, expected) => {
    const event: RawEnvelope = { ...events[0]!, ...(source === undefined ? {} : { source }) };
    if (source === undefined) delete (event as { source?: string }).source;
    const message = encode(stored(event, 0));
    expect(message.headers[HEADERS.source]).toBe(expected);
    expect(asCloudEvent(message).source).toBe(expected);
  });

  it('the SDK check can fail: an unescaped space in ce_source is refused', () => {
    const message = encode(stored(events[0]!, 0));
    const bad = {
      ...message,
      headers: { ...message.headers, [HEADERS.source]: '/crm-ledger/orders 2024.csv' },
    };
    expect(() => asCloudEvent(bad)).toThrow(/source/);
  });
});
