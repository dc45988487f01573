import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { generateHistory } from '@crm-ledger/synthetic';
import { describe, expect, it } from 'vitest';
import {
  aCustomer,
  anEvent,
  expectStrictlyIncreasing,
  readEverything,
  rightOf,
  someEvents,
} from '../fixtures.js';
import type { Harness } from '../harness.js';

export function appendAndReadCases(h: Harness): void {
  describe('append and read', () => {
    it('appends a batch to a new stream and reads it back exactly, with revisions 0..n-1', async () => {
      const { customerId, stream } = aCustomer();
      const events = someEvents(customerId, 5);
      const result = await h.append(stream, events);
      expect(result.streamName).toBe(stream);
      expect(result.duplicate).toBe(false);
      expect(result.nextExpectedRevision).toBe(4);
      expect(result.positions).toHaveLength(5);
      expect(expectStrictlyIncreasing(result.positions)).toBe(true);
      expect(result.positions[0]).toBeGreaterThan(0);
      const read = rightOf(await h.store.readStream(stream));
      expect(read.map((s) => s.revision)).toEqual([0, 1, 2, 3, 4]);
      expect(read.map((s) => s.event)).toEqual(events);
      expect(read.map((s) => s.globalPosition)).toEqual(result.positions);
      for (const s of read) {
        expect(s.streamName).toBe(stream);
        expect(Number.isNaN(Date.parse(s.recordedAt))).toBe(false);
      }
    });

    it('continues revisions across appends and reads from a revision with a maximum count', async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 3));
      const more = await h.append(stream, someEvents(customerId, 4));
      expect(more.nextExpectedRevision).toBe(6);
      const all = rightOf(await h.store.readStream(stream));
      expect(all.map((s) => s.revision)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      const slice = rightOf(await h.store.readStream(stream, { fromRevision: 2, maxCount: 3 }));
      expect(slice.map((s) => s.revision)).toEqual([2, 3, 4]);
      expect(slice.map((s) => s.event)).toEqual(all.slice(2, 5).map((s) => s.event));
      expect(rightOf(await h.store.readStream(stream, { fromRevision: 7 }))).toEqual([]);
    });

    it('reads a stream that does not exist as empty', async () => {
      expect(rightOf(await h.store.readStream(aCustomer().stream))).toEqual([]);
    });

    it('keeps every event type of a realistic history exactly as appended (round trip)', async () => {
      const appended: RawEnvelope[] = [];
      for (const { customerId, events } of generateHistory({
        seed: 11,
        customers: 40,
        targetEvents: 2_000,
      })) {
        await h.append(customerStream(customerId), events, 'no_stream');
        appended.push(...events);
      }
      const odd = anEvent('conf-unicode');
      const feedback: RawEnvelope = {
        ...odd,
        type: 'FeedbackGiven',
        data: {
          channel: 'web',
          sentiment: -0.25,
          text: 'Ünïcödé "quotes" \\ back\\slash \u2028 emoji 🎉 and <tags>',
        },
      };
      await h.append(customerStream('conf-unicode'), [feedback]);
      appended.push(feedback);
      const stored = await readEverything(h.store, 97);
      const readBack = h.fixture.readBack ?? ((e: RawEnvelope) => Promise.resolve(e));
      expect(await Promise.all(stored.map((s) => readBack(s.event)))).toEqual(appended);
      expect(new Set(stored.map((s) => s.event.type)).size).toBeGreaterThanOrEqual(20);
    });
  });
}
