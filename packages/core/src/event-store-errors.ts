import type {
  AppendError,
  CustomerGone,
  IdempotencyConflict,
  InvalidAppend,
  ReadError,
  StoreUnavailable,
  WrongExpectedRevision,
} from './event-store.js';

/**
 * The event-store port's errors, built and recognised in one place: every store builds them with these
 * constructors (so the same refusal reads the same from every store), and callers recognise them with the type
 * guards (never by a message or a name). The guards take `unknown`, so they also sort a value caught from a
 * throw or read back from JSON.
 */

type EventStoreError = AppendError | ReadError;

const hasType = <T extends EventStoreError['type']>(
  value: unknown,
  type: T,
): value is Extract<EventStoreError, { type: T }> =>
  typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;

export const isWrongExpectedRevision = (e: unknown): e is WrongExpectedRevision =>
  hasType(e, 'WrongExpectedRevision');
export const isIdempotencyConflict = (e: unknown): e is IdempotencyConflict =>
  hasType(e, 'IdempotencyConflict');
export const isInvalidAppend = (e: unknown): e is InvalidAppend => hasType(e, 'InvalidAppend');
export const isStoreUnavailable = (e: unknown): e is StoreUnavailable => hasType(e, 'StoreUnavailable');
export const isCustomerGone = (e: unknown): e is CustomerGone => hasType(e, 'CustomerGone');

/** Whether the value is one of the port's errors. */
export const isEventStoreError = (e: unknown): e is EventStoreError =>
  isWrongExpectedRevision(e) ||
  isIdempotencyConflict(e) ||
  isInvalidAppend(e) ||
  isStoreUnavailable(e) ||
  isCustomerGone(e);

export const invalidAppend = (
  message: string,
  extra: Omit<Partial<InvalidAppend>, 'type' | 'message'> = {},
): InvalidAppend => ({ type: 'InvalidAppend', message, ...extra });

export const storeUnavailable = (message: string, cause?: unknown): StoreUnavailable =>
  cause === undefined ? { type: 'StoreUnavailable', message } : { type: 'StoreUnavailable', message, cause };

export const idempotencyConflict = (
  eventId: string,
  streamName: string,
  reason: IdempotencyConflict['reason'],
): IdempotencyConflict => ({ type: 'IdempotencyConflict', eventId, streamName, reason });

/** What every store answers once closed. */
export const STORE_CLOSED = 'the event store is closed';

export const customerGone = (customerId: string, streamName: string): CustomerGone => ({
  type: 'CustomerGone',
  customerId,
  streamName,
});
