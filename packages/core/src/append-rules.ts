import * as E from 'fp-ts/lib/Either.js';
import {
  CUSTOMER_STREAM_PREFIX,
  RawEnvelope,
  toIssues,
  validateEvent,
  type ValidationIssue,
} from '@crm-ledger/events';
import { canonicalJson } from './canonical-json.js';
import { invalidAppend } from './event-store-errors.js';
import type {
  ExpectedRevision,
  InvalidAppend,
  StreamRevision,
  WrongExpectedRevision,
} from './event-store.js';
import { MAX_EVENTS_PER_APPEND, appendLimitExceeded } from './limits.js';

/**
 * The rules of an append that need nothing but the request: what every `EventStore` checks before it looks at
 * what it stores, in this order, with these messages. Each store calls `validateAppend` once; the conformance
 * suite asserts that every store answers a bad append exactly as `validateAppend` does.
 */

/** A stream name: 1-200 of A-Z a-z 0-9 . _ : @ -, not starting with a punctuation character. */
export const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

/** Which rule an append broke: the discriminant of {@link AppendRefusal}. */
export type AppendRule =
  | 'stream_name'
  | 'expected_revision'
  | 'empty_batch'
  | 'batch_size'
  | 'invalid_event'
  | 'customer_stream'
  | 'repeated_event_id'
  | 'not_json'
  | 'append_bytes'
  /** A `readStream` argument (fromRevision, maxCount) out of range. */
  | 'read_arguments';

/** An append refused by a rule of the port (nothing was written): the port's `InvalidAppend`, with its rule. */
export type AppendRefusal = InvalidAppend & { readonly rule: AppendRule };

/**
 * How much of each event a store checks: `'catalogue'` (the default) validates every event against the zod
 * catalogue at its declared version; `'envelope'` only the envelope, for callers that validated already.
 */
export type AppendValidation = 'catalogue' | 'envelope';

/** An append that passed every rule: the events as parsed, and each one's canonical JSON (what is stored). */
export interface ValidAppend {
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  readonly events: readonly RawEnvelope[];
  readonly bodies: readonly string[];
}

const refused = (
  rule: AppendRule,
  message: string,
  extra: Omit<Partial<InvalidAppend>, 'type' | 'message'> = {},
): E.Either<AppendRefusal, never> => E.left({ ...invalidAppend(message, extra), rule });

export function isValidStreamName(streamName: unknown): streamName is string {
  return typeof streamName === 'string' && STREAM_NAME.test(streamName);
}

/** The stream-name rule alone (reads check it too). */
export function checkStreamName(streamName: unknown): E.Either<AppendRefusal, string> {
  return isValidStreamName(streamName) ? E.right(streamName) : badStreamName(streamName);
}

const badStreamName = (streamName: unknown) =>
  refused('stream_name', `invalid stream name '${String(streamName)}': 1-200 of A-Z a-z 0-9 . _ : @ -`);

export function isExpectedRevision(expected: unknown): expected is ExpectedRevision {
  return (
    expected === 'any' ||
    expected === 'no_stream' ||
    expected === 'stream_exists' ||
    (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0)
  );
}

function checkEvent(
  event: unknown,
  validation: AppendValidation,
): E.Either<readonly ValidationIssue[], RawEnvelope> {
  if (validation === 'catalogue') {
    const validated = validateEvent(event);
    return E.isLeft(validated) ? E.left(validated.left.issues) : validated;
  }
  const parsed = RawEnvelope.safeParse(event);
  return parsed.success ? E.right(parsed.data) : E.left(toIssues(parsed.error));
}

/**
 * Checks an append against every rule that needs nothing but the request: the stream name, the expected
 * revision, a batch of 1 to `MAX_EVENTS_PER_APPEND` events, each event valid, in its customer's stream
 * (for a `customer-` stream), no event id twice, representable as JSON, and the byte limits. Pure.
 */
export function validateAppend(
  streamName: unknown,
  events: unknown,
  expectedRevision: unknown = 'any',
  validation: AppendValidation = 'catalogue',
): E.Either<AppendRefusal, ValidAppend> {
  if (!isValidStreamName(streamName)) return badStreamName(streamName);
  if (!isExpectedRevision(expectedRevision)) {
    return refused(
      'expected_revision',
      "expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0",
    );
  }
  if (!Array.isArray(events) || events.length === 0)
    return refused('empty_batch', 'an append needs at least one event');
  if (events.length > MAX_EVENTS_PER_APPEND) {
    return refused('batch_size', `at most ${MAX_EVENTS_PER_APPEND} events per append, got ${events.length}`);
  }
  const customerStream = streamName.startsWith(CUSTOMER_STREAM_PREFIX);
  const parsed = new Array<RawEnvelope>(events.length);
  const bodies = new Array<string>(events.length);
  const ids = new Set<string>();
  for (let index = 0; index < events.length; index++) {
    const checked = checkEvent(events[index], validation);
    if (E.isLeft(checked))
      return refused('invalid_event', `event ${index} is invalid`, { index, issues: checked.left });
    const event = checked.right;
    if (customerStream && streamName !== CUSTOMER_STREAM_PREFIX + event.customerId) {
      return refused(
        'customer_stream',
        `event ${index} belongs to customer '${event.customerId}', not to stream ${streamName}`,
        { index },
      );
    }
    if (ids.has(event.eventId))
      return refused('repeated_event_id', `event ${index} repeats eventId ${event.eventId}`, { index });
    ids.add(event.eventId);
    try {
      bodies[index] = canonicalJson(event);
    } catch (error) {
      return refused('not_json', `event ${index} is not JSON: ${(error as Error).message}`, { index });
    }
    parsed[index] = event;
  }
  // The same byte limits for every store (EventStoreDB's 1 MiB append is the strictest): a batch one store
  // accepts, every store accepts.
  const over = appendLimitExceeded(bodies);
  if (over !== undefined) {
    return refused('append_bytes', over.message, over.index === undefined ? {} : { index: over.index });
  }
  return E.right({ streamName, expected: expectedRevision, events: parsed, bodies });
}

/** A stream's state for the expected-revision rule: its last revision, or 'no_stream'. */
export type ActualRevision = StreamRevision | 'no_stream';

/** The expected-revision rule: whether the caller's expectation holds for the stream as it is. */
export function expectedRevisionHolds(expected: ExpectedRevision, actual: ActualRevision): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 'no_stream';
  if (expected === 'stream_exists') return actual !== 'no_stream';
  return actual === expected;
}

/** The expected-revision rule as the port answers it: nothing, or the `WrongExpectedRevision`. */
export function checkExpectedRevision(
  streamName: string,
  expected: ExpectedRevision,
  actual: ActualRevision,
): E.Either<WrongExpectedRevision, ActualRevision> {
  return expectedRevisionHolds(expected, actual)
    ? E.right(actual)
    : E.left({ type: 'WrongExpectedRevision', streamName, expected, actual });
}

/** The arguments of a `readStream`, checked: the stream name, the first revision and the maximum count. */
export interface ValidRead {
  readonly streamName: string;
  readonly from: StreamRevision;
  readonly max: number;
}

/** The rules of `readStream`'s arguments, the same for every store. */
export function validateReadStream(
  streamName: unknown,
  options: { readonly fromRevision?: unknown; readonly maxCount?: unknown } = {},
): E.Either<AppendRefusal, ValidRead> {
  const from = options.fromRevision ?? 0;
  const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
  if (!isValidStreamName(streamName)) return badStreamName(streamName);
  if (!Number.isSafeInteger(from) || (from as number) < 0)
    return refused('read_arguments', 'fromRevision must be a non-negative integer');
  if (!Number.isSafeInteger(max) || (max as number) < 1)
    return refused('read_arguments', 'maxCount must be a positive integer');
  return E.right({ streamName, from: from as number, max: max as number });
}
