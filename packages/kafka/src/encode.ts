import * as E from 'fp-ts/lib/Either.js';
import type { StoredEvent } from '@crm-ledger/core';
import { CLOUDEVENTS_SPEC_VERSION, CONTENT_TYPE, HEADERS, dataSchemaOf, sourceOf } from './headers.js';
import { redactPii } from './redact.js';
import { topicOfType, type TopicConfig } from './topics.js';

/** A Kafka message ready to send: what the relay hands to the publisher. */
export interface OutgoingMessage {
  readonly topic: string;
  /** The customer id: every event of a customer lands in one partition, in ledger order. */
  readonly key: string;
  /** The event envelope as JSON (personal data removed). */
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly globalPosition: number;
}

/** An event the relay cannot publish: the relay stops rather than skip it. */
export interface UnpublishableEvent {
  readonly type: 'UnpublishableEvent';
  readonly globalPosition: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly reason: string;
}

/** Maps a stored event to its Kafka message: topic by area, key = customer id, CloudEvents headers, PII dropped. */
export function encodeEvent(
  stored: StoredEvent,
  topics: TopicConfig,
): E.Either<UnpublishableEvent, OutgoingMessage> {
  const event = stored.event;
  const topic = topicOfType(topics, event.type);
  if (topic === undefined) {
    return E.left({
      type: 'UnpublishableEvent',
      globalPosition: stored.globalPosition,
      eventId: event.eventId,
      eventType: event.type,
      reason: `the catalogue has no event type '${event.type}' (is this relay older than the ledger?)`,
    });
  }
  const { data, dropped } = redactPii(event.type, event.data);
  const headers: Record<string, string> = {
    [HEADERS.id]: event.eventId,
    [HEADERS.type]: event.type,
    [HEADERS.source]: sourceOf(event.source),
    [HEADERS.subject]: event.customerId,
    [HEADERS.time]: event.occurredAt,
    [HEADERS.specVersion]: CLOUDEVENTS_SPEC_VERSION,
    [HEADERS.contentType]: CONTENT_TYPE,
    [HEADERS.dataSchema]: dataSchemaOf(event.type, event.schemaVersion),
    [HEADERS.schemaVersion]: String(event.schemaVersion),
    [HEADERS.globalPosition]: String(stored.globalPosition),
    [HEADERS.recordedAt]: stored.recordedAt,
  };
  if (event.correlationId !== undefined) headers[HEADERS.correlationId] = event.correlationId;
  if (event.causationId !== undefined) headers[HEADERS.causationId] = event.causationId;
  if (dropped.length > 0) headers[HEADERS.redacted] = dropped.join(',');
  return E.right({
    topic,
    key: event.customerId,
    value: JSON.stringify(dropped.length > 0 ? { ...event, data } : event),
    headers,
    globalPosition: stored.globalPosition,
  });
}
