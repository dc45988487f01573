import { describe, expect, it } from 'vitest';
import { aCustomer, anEvent, leftOf, readEverything, someEvents } from '../fixtures.js';
import type { Harness } from '../harness.js';

export function expectedRevisionCases(h: Harness): void {
  describe('expected revision', () => {
    it("'no_stream' succeeds on a new stream and fails on an existing one with its actual revision", async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 2), 'no_stream');
      const before = await readEverything(h.store);
      const error = leftOf(
        await h.store.append(stream, [anEvent(customerId)], { expectedRevision: 'no_stream' }),
      );
      expect(error).toMatchObject({
        type: 'WrongExpectedRevision',
        streamName: stream,
        expected: 'no_stream',
        actual: 1,
      });
      await h.expectUnchanged(before);
    });

    it("'stream_exists' fails on a missing stream with actual 'no_stream' and succeeds once it exists", async () => {
      const { customerId, stream } = aCustomer();
      const error = leftOf(
        await h.store.append(stream, [anEvent(customerId)], { expectedRevision: 'stream_exists' }),
      );
      expect(error).toMatchObject({
        type: 'WrongExpectedRevision',
        streamName: stream,
        expected: 'stream_exists',
        actual: 'no_stream',
      });
      await h.expectUnchanged([]);
      await h.append(stream, [anEvent(customerId)], 'no_stream');
      const ok = await h.append(stream, [anEvent(customerId)], 'stream_exists');
      expect(ok.nextExpectedRevision).toBe(1);
    });

    it('an exact revision succeeds when it is the last one and fails otherwise with the actual revision', async () => {
      const { customerId, stream } = aCustomer();
      const missing = leftOf(await h.store.append(stream, [anEvent(customerId)], { expectedRevision: 0 }));
      expect(missing).toMatchObject({ type: 'WrongExpectedRevision', expected: 0, actual: 'no_stream' });
      const first = await h.append(stream, someEvents(customerId, 3), 'no_stream');
      const second = await h.append(stream, someEvents(customerId, 2), first.nextExpectedRevision);
      expect(second.nextExpectedRevision).toBe(4);
      const before = await readEverything(h.store);
      const stale = leftOf(await h.store.append(stream, [anEvent(customerId)], { expectedRevision: 2 }));
      expect(stale).toMatchObject({
        type: 'WrongExpectedRevision',
        streamName: stream,
        expected: 2,
        actual: 4,
      });
      const ahead = leftOf(await h.store.append(stream, [anEvent(customerId)], { expectedRevision: 9 }));
      expect(ahead).toMatchObject({ type: 'WrongExpectedRevision', expected: 9, actual: 4 });
      await h.expectUnchanged(before);
    });

    it("'any' (the default) always succeeds", async () => {
      const { customerId, stream } = aCustomer();
      expect((await h.append(stream, [anEvent(customerId)], 'any')).nextExpectedRevision).toBe(0);
      expect((await h.append(stream, [anEvent(customerId)])).nextExpectedRevision).toBe(1);
      expect((await h.append(stream, [anEvent(customerId)], 'any')).nextExpectedRevision).toBe(2);
    });
  });
}
