import * as E from 'fp-ts/lib/Either.js';
import { match } from 'ts-pattern';
import {
  isWrongExpectedRevision,
  type AppendError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type StreamRevision,
} from '@crm-ledger/core';
import {
  customerStream,
  validateEvent,
  type CustomerIdPolicy,
  type RawEnvelope,
  type ValidationIssue,
} from '@crm-ledger/events';

/** An event of a request with its index in the request's `events` array. */
export interface IndexedEvent {
  readonly index: number;
  readonly event: RawEnvelope;
}

export interface InvalidItem {
  readonly index: number;
  readonly issues: readonly ValidationIssue[];
}

/**
 * Validates every item against the catalogue, at the version it declares (the store keeps events as
 * received). Issues carry the item's path in the request: `['events', 3, 'data', 'amount']`.
 */
export function validateItems(
  items: readonly unknown[],
  pathPrefix: readonly (string | number)[] = ['events'],
  customerIds: CustomerIdPolicy = 'opaque',
): { valid: IndexedEvent[]; invalid: InvalidItem[] } {
  const valid: IndexedEvent[] = [];
  const invalid: InvalidItem[] = [];
  items.forEach((item, index) => {
    const r = validateEvent(item, { customerIds });
    if (E.isRight(r)) valid.push({ index, event: r.right });
    else
      invalid.push({
        index,
        issues: r.left.issues.map((i) => ({ ...i, path: [...pathPrefix, index, ...i.path] })),
      });
  });
  return { valid, invalid };
}

/** Groups events by customer, keeping request order within each customer and first-seen order of customers. */
export function groupByCustomer<T extends { readonly event: RawEnvelope }>(
  items: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const g = groups.get(item.event.customerId);
    if (g === undefined) groups.set(item.event.customerId, [item]);
    else g.push(item);
  }
  return groups;
}

/** What happened to one customer's events (always all of them: one atomic append per customer stream). */
export type CustomerOutcome =
  | { readonly status: 'appended'; readonly result: AppendResult }
  | { readonly status: 'duplicate'; readonly result: AppendResult }
  | {
      readonly status: 'conflict';
      readonly error: Extract<AppendError, { type: 'WrongExpectedRevision' | 'IdempotencyConflict' }>;
    }
  | { readonly status: 'invalid'; readonly message: string; readonly issues: readonly ValidationIssue[] }
  | { readonly status: 'unavailable'; readonly message: string }
  /** The customer was erased: the ledger takes no new events about them (410). */
  | { readonly status: 'gone'; readonly customerId: string };

/**
 * Appends one customer's events atomically to `customerStream(customerId)`: the one write path of the
 * HTTP API, `crm-ledger import` and `crm-ledger seed`. The eventIds make it idempotent: a retry of the
 * same events is `duplicate` and writes nothing.
 */
export async function appendCustomerEvents(
  store: EventStore,
  customerId: string,
  events: readonly RawEnvelope[],
  expectedRevision: ExpectedRevision = 'any',
  limits: { readonly maxEventsPerCustomer?: number } = {},
): Promise<CustomerOutcome> {
  const stream = customerStream(customerId);
  const cap = limits.maxEventsPerCustomer ?? 0;
  if (cap > 0 && (await wouldExceed(store, stream, cap, events.length))) {
    // Full: only a retry of stored events may pass. The store answers one as a duplicate whatever the expected
    // revision, and refuses anything new because the stream exists ('no_stream'): the check is atomic.
    const retry = await store.append(stream, events, { expectedRevision: 'no_stream' });
    if (E.isRight(retry) && retry.right.duplicate) return { status: 'duplicate', result: retry.right };
    if (E.isLeft(retry) && !isWrongExpectedRevision(retry.left)) return outcomeOfError(retry.left);
    return {
      status: 'invalid',
      message: describeFull(customerId, cap),
      issues: [{ path: [], code: STREAM_FULL, message: describeFull(customerId, cap) }],
    };
  }
  const result = await store.append(stream, events, { expectedRevision });
  return E.isRight(result)
    ? { status: result.right.duplicate ? 'duplicate' : 'appended', result: result.right }
    : outcomeOfError(result.left);
}

/** The issue code of an append refused because the customer's stream is at its cap. */
export const STREAM_FULL = 'stream_full';

export const describeFull = (customerId: string, cap: number): string =>
  `customer ${customerId} has reached the cap of ${cap} events per customer stream (CRM_LEDGER_MAX_EVENTS_PER_CUSTOMER): nothing was appended`;

/** Whether `adding` events would take the stream past `cap` events (revisions count from 0): one indexed read. */
async function wouldExceed(store: EventStore, stream: string, cap: number, adding: number): Promise<boolean> {
  if (adding > cap) return true;
  const at = await store.readStream(stream, { fromRevision: cap - adding, maxCount: 1 });
  return E.isRight(at) && at.right.length > 0;
}

export function outcomeOfError(error: AppendError): CustomerOutcome {
  return match(error)
    .returnType<CustomerOutcome>()
    .with({ type: 'WrongExpectedRevision' }, (e) => ({ status: 'conflict', error: e }))
    .with({ type: 'IdempotencyConflict' }, (e) => ({ status: 'conflict', error: e }))
    .with({ type: 'InvalidAppend' }, (e) => ({
      status: 'invalid',
      message: e.message,
      issues: e.issues ?? [],
    }))
    .with({ type: 'StoreUnavailable' }, (e) => ({ status: 'unavailable', message: e.message }))
    .with({ type: 'CustomerGone' }, (e) => ({ status: 'gone', customerId: e.customerId }))
    .exhaustive();
}

/** A human sentence for an append refused because the customer was erased. */
export function describeGone(customerId: string): string {
  return `customer ${customerId} was erased (right to erasure): the ledger takes no new events about them`;
}

/** A human sentence for a conflict. */
export function describeConflict(error: Extract<CustomerOutcome, { status: 'conflict' }>['error']): string {
  return match(error)
    .with(
      { type: 'WrongExpectedRevision' },
      (e) => `stream ${e.streamName} is at revision ${String(e.actual)}, expected ${String(e.expected)}`,
    )
    .with(
      { type: 'IdempotencyConflict', reason: 'different_content' },
      (e) => `event ${e.eventId} is already stored with different content`,
    )
    .with(
      { type: 'IdempotencyConflict', reason: 'different_stream' },
      (e) => `event ${e.eventId} is already stored in another stream`,
    )
    .with(
      { type: 'IdempotencyConflict', reason: 'partial_batch' },
      (e) =>
        `the batch mixes stored and new events (event ${e.eventId} is already stored): resend only the new ones`,
    )
    .exhaustive();
}

/** Per-event detail of an append: where each event sits (revisions only for freshly written events). */
export function placements(
  events: readonly RawEnvelope[],
  result: AppendResult,
): { eventId: string; position?: GlobalPosition; revision?: StreamRevision }[] {
  const n = events.length;
  return events.map((e, i) => {
    const position = result.positions.length === n ? result.positions[i] : undefined;
    const revision = result.duplicate ? undefined : result.nextExpectedRevision - (n - 1 - i);
    return {
      eventId: e.eventId,
      ...(position === undefined ? {} : { position }),
      ...(revision === undefined ? {} : { revision }),
    };
  });
}
