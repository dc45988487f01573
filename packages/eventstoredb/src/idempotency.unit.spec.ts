import { GENESIS_LINK, type StoredEvent } from '@crm-ledger/core';
import { describe, expect, it } from 'vitest';
import { classifyBatch } from './idempotency.js';
import { registered } from './test-events.js';

const stream = 'customer-c1';
const stored = (n: number, revision: number): StoredEvent => ({
  globalPosition: 1000 + n * 200,
  streamName: stream,
  revision,
  recordedAt: '2024-06-01T10:00:00.000Z',
  event: registered('c1', n),
  hash: GENESIS_LINK,
});

describe('idempotency decided from the stream contents', () => {
  const existing = [stored(1, 0), stored(2, 1), stored(3, 2)];

  it('new ids: append', () => {
    expect(classifyBatch(stream, existing, [registered('c1', 4), registered('c1', 5)])).toEqual({
      kind: 'new',
    });
    expect(classifyBatch(stream, [], [registered('c1', 1)])).toEqual({ kind: 'new' });
  });

  it('the same events again, anywhere in the stream (not only at the tail): a duplicate with their positions', () => {
    const r = classifyBatch(stream, existing, [registered('c1', 1), registered('c1', 2)]);
    expect(r).toEqual({ kind: 'duplicate', stored: [existing[0], existing[1]] });
  });

  it('the same id with other content: different_content, whatever else the batch holds', () => {
    const changed = registered('c1', 2, { occurredAt: '2024-05-02T00:00:00Z' });
    expect(classifyBatch(stream, existing, [registered('c1', 9), changed])).toEqual({
      kind: 'conflict',
      conflict: {
        type: 'IdempotencyConflict',
        eventId: changed.eventId,
        streamName: stream,
        reason: 'different_content',
      },
    });
  });

  it('stored and new ids mixed: partial_batch naming the first stored event (the port contract)', () => {
    const fresh = registered('c1', 7);
    expect(classifyBatch(stream, existing, [fresh, registered('c1', 3)])).toEqual({
      kind: 'conflict',
      conflict: {
        type: 'IdempotencyConflict',
        eventId: registered('c1', 3).eventId,
        streamName: stream,
        reason: 'partial_batch',
      },
    });
  });

  it('compares content canonically: key order does not matter', () => {
    const e = registered('c1', 2);
    const reordered = {
      data: e.data,
      occurredAt: e.occurredAt,
      customerId: e.customerId,
      schemaVersion: 1,
      type: e.type,
      eventId: e.eventId,
    };
    expect(classifyBatch(stream, existing, [reordered]).kind).toBe('duplicate');
  });
});
