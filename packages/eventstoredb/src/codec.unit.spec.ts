import type { RecordedEvent } from '@eventstore/db-client';
import { canonicalJson } from '@crm-ledger/core';
import { describe, expect, it } from 'vitest';
import { appendSize, fromRecordedEvent, toEventData } from './codec.js';
import { registered } from './test-events.js';

const LINK = 'ab'.repeat(32);

/** What the client hands back for an event it read (the shape of convertGrpcEvent's output). */
function recordedFrom(
  data: ReturnType<typeof toEventData>,
  revision: bigint,
  position: bigint,
): RecordedEvent {
  return {
    streamId: 'customer-c1',
    id: data.id,
    isJson: true,
    revision,
    type: data.type,
    created: new Date('2024-06-01T10:00:00.123Z'),
    data: JSON.parse(JSON.stringify(data.data)) as never,
    metadata: JSON.parse(JSON.stringify(data.metadata)) as never,
    position: { commit: position, prepare: position },
  };
}

describe('envelope <-> ESDB event', () => {
  it('uses the event id as ESDB id, the type as ESDB type, and $-prefixed correlation/causation metadata', () => {
    const e = registered('c1', 1, {
      correlationId: 'corr-1',
      causationId: 'cmd-9',
      source: 'crm',
    });
    const d = toEventData(e, LINK);
    expect(d.id).toBe(e.eventId);
    expect(d.type).toBe('CustomerRegistered');
    expect(d.contentType).toBe('application/json');
    expect(d.data).toEqual(e.data);
    expect(d.metadata).toMatchObject({ $correlationId: 'corr-1', $causationId: 'cmd-9', source: 'crm' });
  });

  it('omits $correlationId / $causationId when the envelope has none', () => {
    const d = toEventData(registered('c1'), LINK);
    expect(Object.keys(d.metadata as object).sort()).toEqual([
      'chainLink',
      'customerId',
      'eventId',
      'occurredAt',
      'schemaVersion',
    ]);
  });

  it('reads back the envelope exactly as appended, with position, revision and recordedAt', () => {
    for (const e of [
      registered('c1', 2),
      registered('c1', 3, { correlationId: 'x', causationId: 'y', source: 's' }),
    ]) {
      const stored = fromRecordedEvent(recordedFrom(toEventData(e, LINK), 4n, 123_456n));
      expect(canonicalJson(stored.event)).toBe(canonicalJson(e));
      expect(stored).toMatchObject({
        globalPosition: 123_456,
        revision: 4,
        streamName: 'customer-c1',
        recordedAt: '2024-06-01T10:00:00.123Z',
      });
    }
  });

  it('carries the chain link in the metadata and returns it as the hash, outside the envelope', () => {
    const e = registered('c1', 5);
    const stored = fromRecordedEvent(recordedFrom(toEventData(e, LINK), 0n, 10n));
    expect(stored.hash).toBe(LINK);
    expect(stored.event).not.toHaveProperty('chainLink');
    expect(canonicalJson(stored.event)).toBe(canonicalJson(e));
    const before = recordedFrom(toEventData(e, LINK), 0n, 10n);
    const { chainLink: _dropped, ...metadata } = before.metadata as Record<string, unknown>;
    // An event written before the chain existed has no link: it reads as '' and verify reports it.
    expect(fromRecordedEvent({ ...before, metadata }).hash).toBe('');
  });

  it('strips the namespace from the stream name', () => {
    const recorded = {
      ...recordedFrom(toEventData(registered('c1'), LINK), 0n, 10n),
      streamId: 'run42.customer-c1',
    };
    expect(fromRecordedEvent(recorded, 'run42.').streamName).toBe('customer-c1');
  });

  it('refuses records that are not crm-ledger envelopes, and servers without positions', () => {
    const foreign = { ...recordedFrom(toEventData(registered('c1'), LINK), 0n, 10n), metadata: { hello: 1 } };
    expect(() => fromRecordedEvent(foreign as RecordedEvent)).toThrow(/no crm-ledger envelope/);
    const old = { ...recordedFrom(toEventData(registered('c1'), LINK), 0n, 10n), position: undefined };
    expect(() => fromRecordedEvent(old as RecordedEvent)).toThrow(/22\.6/);
  });

  it('counts the bytes ESDB counts against its maximum append size: data + metadata, UTF-8', () => {
    const small = toEventData(registered('c1'), LINK);
    const expected =
      Buffer.byteLength(JSON.stringify(small.data)) + Buffer.byteLength(JSON.stringify(small.metadata));
    expect(appendSize([small])).toBe(expected);
    expect(appendSize([small, small])).toBe(2 * expected);
    const accented = toEventData(registered('c1', 1, { source: 'é'.repeat(10) }), LINK);
    expect(appendSize([accented]) - expected).toBe(Buffer.byteLength(',"source":""') + 20);
  });
});
