import * as E from 'fp-ts/lib/Either.js';
import { canonicalJson, type ExpectedRevision, type InvalidAppend } from '@crm-ledger/core';
import {
  CUSTOMER_STREAM_PREFIX,
  RawEnvelope,
  toIssues,
  validateEvent,
  type ValidationIssue,
} from '@crm-ledger/events';

/** Same limits as the embedded store, so a batch valid for one store is valid for the other. */
export const MAX_EVENTS_PER_APPEND = 10_000;
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

export type Validation = 'catalogue' | 'envelope';

const invalid = (message: string, extra: Partial<InvalidAppend> = {}): InvalidAppend => ({
  type: 'InvalidAppend',
  message,
  ...extra,
});

export function checkStreamName(streamName: unknown): E.Either<InvalidAppend, string> {
  return typeof streamName === 'string' && STREAM_NAME.test(streamName)
    ? E.right(streamName)
    : E.left(invalid(`invalid stream name '${String(streamName)}': 1-200 of A-Z a-z 0-9 . _ : @ -`));
}

export function checkExpected(expected: unknown): E.Either<InvalidAppend, ExpectedRevision> {
  const ok =
    expected === 'any' ||
    expected === 'no_stream' ||
    expected === 'stream_exists' ||
    (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0);
  return ok
    ? E.right(expected)
    : E.left(invalid("expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0"));
}

function checkEvent(
  event: unknown,
  validation: Validation,
): E.Either<readonly ValidationIssue[], RawEnvelope> {
  if (validation === 'catalogue') {
    const validated = validateEvent(event);
    return E.isLeft(validated) ? E.left(validated.left.issues) : validated;
  }
  const parsed = RawEnvelope.safeParse(event);
  return parsed.success ? E.right(parsed.data) : E.left(toIssues(parsed.error));
}

/**
 * Validates a batch before anything is sent: non-empty, every envelope valid, every event in its customer's
 * stream, no event id twice. Returns the events as parsed (what will be stored).
 */
export function checkBatch(
  streamName: string,
  events: readonly RawEnvelope[],
  validation: Validation,
): E.Either<InvalidAppend, RawEnvelope[]> {
  if (!Array.isArray(events) || events.length === 0)
    return E.left(invalid('an append needs at least one event'));
  if (events.length > MAX_EVENTS_PER_APPEND) {
    return E.left(invalid(`at most ${MAX_EVENTS_PER_APPEND} events per append, got ${events.length}`));
  }
  const out: RawEnvelope[] = [];
  const ids = new Set<string>();
  for (let index = 0; index < events.length; index++) {
    const checked = checkEvent(events[index], validation);
    if (E.isLeft(checked))
      return E.left(invalid(`event ${index} is invalid`, { index, issues: checked.left }));
    const event = checked.right;
    if (
      streamName.startsWith(CUSTOMER_STREAM_PREFIX) &&
      streamName !== CUSTOMER_STREAM_PREFIX + event.customerId
    ) {
      return E.left(
        invalid(`event ${index} belongs to customer '${event.customerId}', not to stream ${streamName}`, {
          index,
        }),
      );
    }
    if (ids.has(event.eventId))
      return E.left(invalid(`event ${index} repeats eventId ${event.eventId}`, { index }));
    ids.add(event.eventId);
    try {
      canonicalJson(event);
    } catch (error) {
      return E.left(invalid(`event ${index} is not JSON: ${(error as Error).message}`, { index }));
    }
    out.push(event);
  }
  return E.right(out);
}
