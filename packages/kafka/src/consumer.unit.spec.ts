import * as E from 'fp-ts/lib/Either.js';
import { GENESIS_LINK } from '@crm-ledger/core';
import { describe, expect, it } from 'vitest';
import { createMessageHandler } from './consumer.js';
import { memoryDeduplicator } from './dedupe.js';
import { encodeEvent } from './encode.js';
import { sampleHistory } from './test-fixtures.js';
import { DEFAULT_TOPICS } from './topics.js';

const messages = sampleHistory(1)[0]!.events.map((event, i) => {
  const encoded = encodeEvent(
    {
      globalPosition: i + 1,
      streamName: 'customer-c-0',
      revision: i,
      recordedAt: event.occurredAt,
      event,
      hash: GENESIS_LINK,
    },
    DEFAULT_TOPICS,
  );
  if (E.isLeft(encoded)) throw new Error('encode');
  const m = encoded.right;
  return {
    topic: m.topic,
    partition: 0,
    offset: String(i),
    key: Buffer.from(m.key),
    value: Buffer.from(m.value),
    headers: m.headers,
  };
});

describe('createMessageHandler', () => {
  it('dispatches typed events to their handler, skips duplicates and counts unhandled types', async () => {
    const opened: string[] = [];
    const positions: (number | undefined)[] = [];
    const handle = createMessageHandler({
      handlers: {
        TicketOpened: (event, ctx) => {
          // Upcast: version 1 had no priority.
          opened.push(`${event.data.ticketId}:${event.data.priority}`);
          positions.push(ctx.globalPosition);
        },
      },
    });
    const outcomes = [];
    for (const m of [...messages, messages[2]!]) outcomes.push(await handle(m));
    expect(outcomes).toEqual(['unhandled', 'unhandled', 'handled', 'unhandled', 'duplicate']);
    expect(opened).toEqual(['t-0:normal']);
    expect(positions).toEqual([3]);
  });

  it('does not remember an event whose handler failed, so a retry handles it', async () => {
    let calls = 0;
    const handle = createMessageHandler({
      handlers: {
        PurchaseMade: () => {
          calls += 1;
          if (calls === 1) throw new Error('view unavailable');
        },
      },
    });
    await expect(handle(messages[1]!)).rejects.toThrow('view unavailable');
    expect(await handle(messages[1]!)).toBe('handled');
    expect(calls).toBe(2);
  });

  it('reports invalid messages and goes on', async () => {
    const invalid: string[] = [];
    const handle = createMessageHandler({
      handlers: {},
      onInvalid: (error) => void invalid.push(error.reason),
    });
    expect(await handle({ ...messages[0]!, value: Buffer.from('[]') })).toBe('invalid');
    expect(invalid).toEqual(['invalid_event']);
  });
});

describe('memoryDeduplicator', () => {
  it('forgets the oldest ids beyond its capacity', () => {
    const d = memoryDeduplicator(2);
    d.add('a');
    d.add('b');
    d.add('c');
    expect([d.has('a'), d.has('b'), d.has('c')]).toEqual([false, true, true]);
  });
});
