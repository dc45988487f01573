import * as E from 'fp-ts/lib/Either.js';
import { parseEvent, type LedgerEvent, type ValidationIssue } from '@crm-ledger/events';
import { HEADERS } from './headers.js';

/** A received Kafka message, in the shape kafkajs gives it (kept structural so decoding is testable without it). */
export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

export interface DecodedEvent {
  /** The event validated with the zod catalogue and upcast to the newest version of its type. */
  readonly event: LedgerEvent;
  /** Position in the ledger's global log, when the producer said (the relay always does). */
  readonly globalPosition: number | undefined;
  /** Personal-data fields the relay removed from `data`. */
  readonly redacted: readonly string[];
}

export interface InvalidMessage {
  readonly type: 'InvalidMessage';
  readonly reason: 'empty' | 'not_json' | 'invalid_event';
  readonly issues: readonly ValidationIssue[];
  /** The `ce_id` header, when there is one: to find the event without logging its content. */
  readonly eventId: string | undefined;
}

/** The first value of a header as a string. */
export function header(message: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const raw = message.headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/** Decodes a message's value as JSON, validates it at its declared schema version and upcasts it. */
export function decodeMessage(message: IncomingMessage): E.Either<InvalidMessage, DecodedEvent> {
  const eventId = header(message, HEADERS.id);
  const invalid = (reason: InvalidMessage['reason'], issues: readonly ValidationIssue[]) =>
    E.left<InvalidMessage>({ type: 'InvalidMessage', reason, issues, eventId });
  if (message.value === null || message.value.length === 0) {
    return invalid('empty', [{ path: [], code: 'empty', message: 'the message has no value' }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    return invalid('not_json', [{ path: [], code: 'not_json', message: (error as Error).message }]);
  }
  const parsed = parseEvent(json);
  if (E.isLeft(parsed)) return invalid('invalid_event', parsed.left.issues);
  const position = header(message, HEADERS.globalPosition);
  const redacted = header(message, HEADERS.redacted);
  return E.right({
    event: parsed.right,
    globalPosition: position === undefined ? undefined : Number(position),
    redacted: redacted === undefined || redacted === '' ? [] : redacted.split(','),
  });
}
