import {
  MAX_EVENTS_PER_APPEND,
  validateAppend,
  validateReadStream,
  type AppendRule,
  type EventStore,
  type ExpectedRevision,
} from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { describe, expect, it } from 'vitest';
import { aCustomer, anEvent, leftOf, readEverything, someEvents } from './fixtures.js';

interface BadAppend {
  readonly what: string;
  readonly rule: AppendRule;
  readonly stream: string;
  readonly events: readonly unknown[];
  readonly expectedRevision?: unknown;
}

/** One bad append per rule of the port (`validateAppend`), for a fresh customer. */
function badAppends(): BadAppend[] {
  const { customerId, stream } = aCustomer();
  const event = anEvent(customerId);
  return [
    { what: 'an empty stream name', rule: 'stream_name', stream: '', events: [event] },
    { what: 'a stream name with a space', rule: 'stream_name', stream: 'customer 1', events: [event] },
    {
      what: 'a stream name of 201 characters',
      rule: 'stream_name',
      stream: 'c'.repeat(201),
      events: [event],
    },
    { what: 'a negative revision', rule: 'expected_revision', stream, events: [event], expectedRevision: -1 },
    { what: "'latest'", rule: 'expected_revision', stream, events: [event], expectedRevision: 'latest' },
    { what: 'an empty batch', rule: 'empty_batch', stream, events: [] },
    {
      what: `${MAX_EVENTS_PER_APPEND + 1} events`,
      rule: 'batch_size',
      stream,
      events: Array.from({ length: MAX_EVENTS_PER_APPEND + 1 }, () => event),
    },
    {
      what: 'an invalid event second',
      rule: 'invalid_event',
      stream,
      events: [event, { ...anEvent(customerId), data: { feature: 'Not A Slug!' } }],
    },
    {
      what: 'a lone surrogate in a string',
      rule: 'invalid_event',
      stream,
      events: [{ ...anEvent(customerId), source: 'web \ud800' }],
    },
    {
      what: "another customer's event in a customer stream",
      rule: 'customer_stream',
      stream,
      events: [event, anEvent(`${customerId}-other`)],
    },
    {
      what: 'an event id twice',
      rule: 'repeated_event_id',
      stream,
      events: [event, anEvent(customerId), event],
    },
    {
      what: 'a batch over the byte limit',
      rule: 'append_bytes',
      stream,
      events: someEvents(customerId, 3000),
    },
  ];
}

/**
 * The port's refusals are the same from every store: each bad append gets exactly the `InvalidAppend` (message,
 * index, issues, rule) that `validateAppend` gives, and writes nothing.
 */
export function describeSharedRefusals(current: () => EventStore): void {
  describe('the same bad request gets the same refusal from every store', () => {
    it('each rule of validateAppend, with its message, index and issues', async () => {
      const store = current();
      for (const bad of badAppends()) {
        const expected = leftOf(validateAppend(bad.stream, bad.events, bad.expectedRevision ?? 'any'));
        expect(expected.rule, bad.what).toBe(bad.rule);
        const options =
          bad.expectedRevision === undefined
            ? {}
            : { expectedRevision: bad.expectedRevision as ExpectedRevision };
        const got = leftOf(await store.append(bad.stream, bad.events as RawEnvelope[], options));
        expect(got, bad.what).toEqual(expected);
      }
      expect(await readEverything(store)).toEqual([]);
    });

    it('bad readStream arguments, with their messages', async () => {
      const store = current();
      const { stream } = aCustomer();
      const cases: [unknown, { fromRevision?: number; maxCount?: number }][] = [
        ['', {}],
        ['a b', {}],
        [stream, { fromRevision: -1 }],
        [stream, { fromRevision: 1.5 }],
        [stream, { maxCount: 0 }],
        [stream, { maxCount: -5 }],
      ];
      for (const [name, options] of cases) {
        const expected = leftOf(validateReadStream(name, options));
        expect(
          leftOf(await store.readStream(name as string, options)),
          JSON.stringify([name, options]),
        ).toEqual(expected);
      }
    });
  });
}
