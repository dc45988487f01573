import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { GENESIS_LINK, type StoredEvent } from '@crm-ledger/core';
import { decodeMessage } from './decode.js';
import { encodeEvent, type OutgoingMessage } from './encode.js';
import { HEADERS } from './headers.js';
import { chunkBySize } from './relay.js';
import { sampleHistory } from './test-fixtures.js';
import { allTopics, DEFAULT_TOPICS } from './topics.js';

const events = sampleHistory(2).flatMap((h) => h.events);
const stored: StoredEvent[] = events.map((event, i) => ({
  globalPosition: i + 1,
  streamName: `customer-${event.customerId}`,
  revision: i % 4,
  recordedAt: '2025-01-01T00:00:00.000Z',
  event,
  hash: GENESIS_LINK,
}));

function encode(s: StoredEvent): OutgoingMessage {
  const result = encodeEvent(s, DEFAULT_TOPICS);
  if (E.isLeft(result)) throw new Error(result.left.reason);
  return result.right;
}

const asIncoming = (m: OutgoingMessage) => ({
  topic: m.topic,
  partition: 0,
  offset: '0',
  key: Buffer.from(m.key),
  value: Buffer.from(m.value),
  headers: m.headers,
});

describe('encodeEvent', () => {
  it('keys by customer and routes by area', () => {
    const messages = stored.map(encode);
    expect(messages.map((m) => m.topic)).toEqual([
      'crm.relationship',
      'crm.revenue',
      'crm.service',
      'crm.service',
      'crm.relationship',
      'crm.revenue',
      'crm.service',
      'crm.service',
    ]);
    expect(messages.map((m) => m.key)).toEqual(stored.map((s) => s.event.customerId));
  });

  it('sets the CloudEvents binary-mode headers and our extensions', () => {
    const resolved = encode(stored[3]!);
    expect(resolved.headers).toEqual({
      ce_id: stored[3]!.event.eventId,
      ce_type: 'TicketResolved',
      ce_source: '/crm-ledger',
      ce_subject: 'c-0',
      ce_time: stored[3]!.event.occurredAt,
      ce_specversion: '1.0',
      'content-type': 'application/json',
      ce_dataschema: 'https://crm-ledger.dev/schemas/TicketResolved.v1.schema.json',
      ce_schemaversion: '1',
      ce_globalposition: '4',
      ce_recordedat: '2025-01-01T00:00:00.000Z',
      ce_causationid: stored[2]!.event.eventId,
    });
    expect(encode(stored[1]!).headers[HEADERS.source]).toBe('/crm-ledger/shop');
    expect(encode(stored[0]!).headers[HEADERS.correlationId]).toBe('signup-0');
  });

  it('never puts personal data on Kafka, and says which fields it dropped', () => {
    const registered = encode(stored[0]!);
    expect(registered.value).not.toContain('Ada');
    expect(registered.value).not.toContain('ada@example.com');
    expect(registered.headers[HEADERS.redacted]).toBe('name,email');
    const ticket = encode(stored[2]!);
    expect(ticket.value).not.toContain('invoice');
    expect(ticket.headers[HEADERS.redacted]).toBe('subject');
    expect(encode(stored[1]!).headers[HEADERS.redacted]).toBeUndefined();
  });

  it('refuses an event type the catalogue does not know', () => {
    const unknown: StoredEvent = { ...stored[0]!, event: { ...stored[0]!.event, type: 'Nope' } };
    expect(encodeEvent(unknown, DEFAULT_TOPICS)).toMatchObject({
      _tag: 'Left',
      left: { type: 'UnpublishableEvent', eventType: 'Nope', globalPosition: 1 },
    });
  });

  it('with the single layout, sends everything to one topic', () => {
    const single = { prefix: 'x', layout: 'single' } as const;
    expect(allTopics(single)).toEqual(['x.events']);
    expect(stored.map((s) => E.map((m: OutgoingMessage) => m.topic)(encodeEvent(s, single)))).toEqual(
      stored.map(() => E.right('x.events')),
    );
  });
});

describe('decodeMessage', () => {
  it('reads back what was encoded, validated and upcast, without the personal data', () => {
    const decoded = stored.map((s) => decodeMessage(asIncoming(encode(s))));
    const ticket = decoded[2]!;
    expect(ticket).toMatchObject({
      _tag: 'Right',
      right: {
        globalPosition: 3,
        redacted: ['subject'],
        event: {
          type: 'TicketOpened',
          schemaVersion: 2,
          data: { ticketId: 't-0', channel: 'email', category: 'billing', priority: 'normal' },
        },
      },
    });
    if (E.isRight(ticket)) expect(ticket.right.event.data).not.toHaveProperty('subject');
    expect(decoded.every(E.isRight)).toBe(true);
  });

  it('returns invalid messages as data', () => {
    const base = asIncoming(encode(stored[1]!));
    expect(decodeMessage({ ...base, value: null })).toMatchObject({ left: { reason: 'empty' } });
    expect(decodeMessage({ ...base, value: Buffer.from('{nope') })).toMatchObject({
      left: { reason: 'not_json', eventId: stored[1]!.event.eventId },
    });
    const bad = JSON.stringify({ ...stored[1]!.event, data: { orderId: 'o' } });
    expect(decodeMessage({ ...base, value: Buffer.from(bad) })).toMatchObject({
      left: { reason: 'invalid_event', issues: [{ path: ['data', 'amount'] }] },
    });
  });
});

describe('chunkBySize', () => {
  it('splits in order under the byte limit, never leaving a message out', () => {
    const messages = stored.map(encode);
    const chunks = chunkBySize(messages, 1000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(messages);
    const oneEach = chunkBySize(messages, 1);
    expect(oneEach).toHaveLength(messages.length);
  });
});

describe('a profile update that changed only personal data', () => {
  const update: StoredEvent = {
    globalPosition: 9,
    streamName: 'customer-c-9',
    revision: 1,
    recordedAt: '2025-01-01T00:00:00.000Z',
    hash: GENESIS_LINK,
    event: {
      eventId: '00000000-0000-4000-8000-000000000999',
      type: 'CustomerProfileUpdated',
      schemaVersion: 1,
      customerId: 'c-9',
      occurredAt: '2024-02-01T00:00:00.000Z',
      data: { email: 'new@example.com' },
    },
  };

  it('is published with empty data and still decodes, because the relay said what it removed', () => {
    const message = encode(update);
    expect(JSON.parse(message.value)).toMatchObject({ data: {} });
    expect(decodeMessage(asIncoming(message))).toMatchObject({
      _tag: 'Right',
      right: { redacted: ['email'], event: { type: 'CustomerProfileUpdated', data: {} } },
    });
  });

  it('is invalid without the redaction header: empty data is not a valid update', () => {
    const message = encode(update);
    const { [HEADERS.redacted]: _dropped, ...headers } = message.headers;
    expect(decodeMessage({ ...asIncoming(message), headers })).toMatchObject({
      _tag: 'Left',
      left: { reason: 'invalid_event' },
    });
  });
});
