import * as E from 'fp-ts/lib/Either.js';
import { RawEnvelope, parseEvent, upcast, type LedgerEvent, type ValidationIssue } from '@crm-ledger/events';
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
  const position = header(message, HEADERS.globalPosition);
  const redactedHeader = header(message, HEADERS.redacted);
  const redacted = redactedHeader === undefined || redactedHeader === '' ? [] : redactedHeader.split(',');
  const parsed = E.orElse(
    (error: { issues: readonly ValidationIssue[] }) => acceptRedacted(json, redacted, error.issues),
    // The ledger chose which customer ids it accepts when it recorded the event: a consumer takes them as published.
  )(parseEvent(json, { customerIds: 'any' }));
  if (E.isLeft(parsed)) return invalid('invalid_event', parsed.left.issues);
  return E.right({
    event: parsed.right,
    globalPosition: position === undefined ? undefined : Number(position),
    redacted,
  });
}

/**
 * Removing personal data can break a rule on the whole `data` object: a `CustomerProfileUpdated` that changed only
 * the e-mail arrives as `data: {}`, and "at least one field must change" no longer holds. When the relay said it
 * redacted fields and the only issues are on `data` as a whole or are the absence of a required field it removed
 * (`SuccessCriterionDefined.description`), the event is accepted as it is (envelope checked, then upcast): it is a
 * true fact of the ledger whose personal part stayed behind.
 */
function acceptRedacted(
  json: unknown,
  redacted: readonly string[],
  issues: readonly ValidationIssue[],
): E.Either<{ issues: readonly ValidationIssue[] }, LedgerEvent> {
  // Issues on `data` as a whole, or a required personal field the relay removed (it said so in `ce_redacted`).
  const explained = issues.every(
    (i) =>
      (i.path.length === 1 && i.path[0] === 'data') ||
      (i.path.length === 2 && i.path[0] === 'data' && redacted.includes(String(i.path[1]))),
  );
  if (redacted.length === 0 || !explained) return E.left({ issues });
  const envelope = RawEnvelope.safeParse(json);
  const event = envelope.success ? upcast(envelope.data) : undefined;
  return event === undefined ? E.left({ issues }) : E.right(event);
}
