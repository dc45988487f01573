import type { RawEnvelope } from '@crm-ledger/events';
import { describe, expect, it } from 'vitest';
import { aCustomer, anEvent, leftOf, readEverything, rightOf, someEvents } from '../fixtures.js';
import type { Harness } from '../harness.js';

export function idempotencyByEventIdCases(h: Harness): void {
  describe('idempotency by event id', () => {
    it('the same events again succeed with duplicate=true and write nothing, whatever the expected revision', async () => {
      const { customerId, stream } = aCustomer();
      const events = someEvents(customerId, 3);
      const first = await h.append(stream, events, 'no_stream');
      await h.append(stream, someEvents(customerId, 2), first.nextExpectedRevision);
      const before = await readEverything(h.store);
      for (const expectedRevision of ['no_stream', 'any', 'stream_exists', 2, 4, 99] as const) {
        const again = rightOf(await h.store.append(stream, events, { expectedRevision }));
        expect(again.duplicate, String(expectedRevision)).toBe(true);
        expect(again.streamName).toBe(stream);
      }
      await h.expectUnchanged(before);
    });

    it('compares content, not key order: the same event with keys reordered is a duplicate', async () => {
      const { customerId, stream } = aCustomer();
      const event = anEvent(customerId);
      await h.append(stream, [event]);
      const reordered = {
        data: { ...(event.data as object) },
        source: event.source,
        occurredAt: event.occurredAt,
        customerId,
        schemaVersion: 1,
        type: event.type,
        eventId: event.eventId,
      } as RawEnvelope;
      expect(rightOf(await h.store.append(stream, [reordered])).duplicate).toBe(true);
      expect(await h.store.headPosition()).toBe(rightOf(await h.store.readStream(stream))[0]!.globalPosition);
    });

    it("the same id with different content is an IdempotencyConflict 'different_content'", async () => {
      const { customerId, stream } = aCustomer();
      const event = anEvent(customerId);
      await h.append(stream, [event]);
      const before = await readEverything(h.store);
      const changed = { ...event, data: { feature: 'something-else' } };
      const error = leftOf(await h.store.append(stream, [changed]));
      expect(error).toMatchObject({
        type: 'IdempotencyConflict',
        eventId: event.eventId,
        streamName: stream,
        reason: 'different_content',
      });
      await h.expectUnchanged(before);
    });

    it("the same id in another stream is an IdempotencyConflict 'different_stream'", async () => {
      const { customerId, stream } = aCustomer();
      const event = anEvent(customerId);
      await h.append(stream, [event]);
      const before = await readEverything(h.store);
      // Not a customer stream: stores may refuse a customer stream that holds another customer's events.
      const other = `conformance-other-${customerId}`;
      const error = leftOf(await h.store.append(other, [event]));
      expect(error).toMatchObject({
        type: 'IdempotencyConflict',
        eventId: event.eventId,
        reason: 'different_stream',
      });
      await h.expectUnchanged(before);
      expect(rightOf(await h.store.readStream(other))).toEqual([]);
    });

    it("a batch mixing stored and new events is an IdempotencyConflict 'partial_batch'", async () => {
      const { customerId, stream } = aCustomer();
      const stored = someEvents(customerId, 2);
      await h.append(stream, stored);
      const before = await readEverything(h.store);
      const error = leftOf(await h.store.append(stream, [stored[0]!, anEvent(customerId), stored[1]!]));
      expect(error).toMatchObject({
        type: 'IdempotencyConflict',
        streamName: stream,
        reason: 'partial_batch',
      });
      expect(stored.map((e) => e.eventId)).toContain((error as { eventId: string }).eventId);
      await h.expectUnchanged(before);
    });

    it('the same id twice in one batch is a typed error and writes nothing', async () => {
      const { customerId, stream } = aCustomer();
      const event = anEvent(customerId);
      const error = leftOf(await h.store.append(stream, [event, anEvent(customerId), event]));
      expect(['InvalidAppend', 'IdempotencyConflict']).toContain(error.type);
      await h.expectUnchanged([]);
    });
  });
}
