import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { expectedRevisionHolds, validateAppend } from './append-rules.js';
import {
  customerGone,
  idempotencyConflict,
  invalidAppend,
  isCustomerGone,
  isEventStoreError,
  isIdempotencyConflict,
  isInvalidAppend,
  isStoreUnavailable,
  isWrongExpectedRevision,
  storeUnavailable,
} from './event-store-errors.js';

const event = (customerId: string, eventId = '0b7d1c2e-2f0a-4c58-9d1e-2b4f6a8c0d11') => ({
  eventId,
  type: 'FeatureAdopted',
  schemaVersion: 1,
  customerId,
  occurredAt: '2024-05-01T09:30:00.000Z',
  data: { feature: 'exports' },
});

describe('validateAppend', () => {
  it('answers the parsed events and their canonical JSON', () => {
    const r = validateAppend('customer-c1', [event('c1')], 2);
    expect(E.isRight(r) && r.right.expected).toBe(2);
    expect(E.isRight(r) && r.right.bodies[0]).toMatch(/^\{"customerId":"c1","data":\{"feature":"exports"\}/);
  });

  it('checks the rules in order: the first broken one names the refusal', () => {
    const ruleOf = (...args: Parameters<typeof validateAppend>) => {
      const r = validateAppend(...args);
      return E.isLeft(r) ? r.left.rule : undefined;
    };
    expect(ruleOf('bad name', [], -1)).toBe('stream_name');
    expect(ruleOf('customer-c1', [], -1)).toBe('expected_revision');
    expect(ruleOf('customer-c1', [], 'any')).toBe('empty_batch');
    expect(ruleOf('customer-c1', [event('c2')])).toBe('customer_stream');
    expect(ruleOf('other-stream', [event('c2')])).toBeUndefined();
    expect(ruleOf('customer-c1', [event('c1'), event('c1')])).toBe('repeated_event_id');
    expect(ruleOf('customer-c1', [{ ...event('c1'), data: { feature: 1n } }], 'any', 'envelope')).toBe(
      'not_json',
    );
  });
});

describe('the expected-revision rule', () => {
  it.each([
    ['any', 'no_stream', true],
    ['any', 3, true],
    ['no_stream', 'no_stream', true],
    ['no_stream', 0, false],
    ['stream_exists', 'no_stream', false],
    ['stream_exists', 0, true],
    [2, 2, true],
    [2, 3, false],
    [0, 'no_stream', false],
  ] as const)('expected %s, actual %s: %s', (expected, actual, holds) => {
    expect(expectedRevisionHolds(expected, actual)).toBe(holds);
  });
});

describe('type guards of the port errors', () => {
  it('recognise each error by its type, and nothing else', () => {
    const errors = [
      { type: 'WrongExpectedRevision', streamName: 's', expected: 0, actual: 'no_stream' },
      idempotencyConflict('e', 's', 'partial_batch'),
      invalidAppend('bad'),
      storeUnavailable('down'),
      customerGone('c', 'customer-c'),
    ];
    const guards = [
      isWrongExpectedRevision,
      isIdempotencyConflict,
      isInvalidAppend,
      isStoreUnavailable,
      isCustomerGone,
    ];
    errors.forEach((e, i) => {
      expect(guards.map((g) => g(e))).toEqual(guards.map((_, j) => j === i));
      expect(isEventStoreError(e)).toBe(true);
    });
    for (const other of [undefined, null, 'InvalidAppend', new Error('InvalidAppend'), { type: 'Other' }])
      expect(isEventStoreError(other)).toBe(false);
  });
});
