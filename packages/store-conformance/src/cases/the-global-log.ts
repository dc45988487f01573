import type { StoredEvent } from '@crm-ledger/core';
import { describe, expect, it } from 'vitest';
import {
  aCustomer,
  anEvent,
  expectStrictlyIncreasing,
  leftOf,
  readEverything,
  someEvents,
  within,
} from '../fixtures.js';
import { WAIT_MS, type Harness } from '../harness.js';

export function theGlobalLogCases(h: Harness): void {
  describe('the global log', () => {
    async function fill(n: number): Promise<StoredEvent[]> {
      for (let i = 0; i < n; i += 3) {
        const { customerId, stream } = aCustomer();
        await h.append(stream, someEvents(customerId, Math.min(3, n - i)));
      }
      return readEverything(h.store);
    }

    it('reads in pages of at most batchSize, in order, everything once', async () => {
      const all = await fill(25);
      expect(all).toHaveLength(25);
      const pages: (readonly StoredEvent[])[] = [];
      for await (const page of h.store.readAll({ batchSize: 10 })) pages.push(page);
      expect(pages.length).toBeGreaterThanOrEqual(3);
      for (const page of pages) {
        expect(page.length).toBeGreaterThan(0);
        expect(page.length).toBeLessThanOrEqual(10);
      }
      expect(pages.flat()).toEqual(all);
      expect(expectStrictlyIncreasing(all.map((s) => s.globalPosition))).toBe(true);
    });

    it("'after' is exclusive and 'until' inclusive", async () => {
      const all = await fill(20);
      const at = (i: number) => all[i]!.globalPosition;
      const collect = async (options: { after?: number; until?: number; batchSize?: number }) => {
        const out: StoredEvent[] = [];
        for await (const page of h.store.readAll(options)) out.push(...page);
        return out;
      };
      expect(await collect({ after: at(4), batchSize: 3 })).toEqual(all.slice(5));
      expect(await collect({ until: at(11), batchSize: 4 })).toEqual(all.slice(0, 12));
      expect(await collect({ after: at(4), until: at(11) })).toEqual(all.slice(5, 12));
      expect(await collect({ after: at(19) })).toEqual([]);
      expect(await collect({ after: at(7), until: at(7) })).toEqual([]);
      expect(await collect({ after: 0 })).toEqual(all);
    });

    it('headPosition is 0 when empty, then the last position, and does not move on failed appends', async () => {
      expect(await h.store.headPosition()).toBe(0);
      const { customerId, stream } = aCustomer();
      const r = await h.append(stream, someEvents(customerId, 3));
      expect(await h.store.headPosition()).toBe(r.positions[2]);
      leftOf(await h.store.append(stream, [anEvent(customerId)], { expectedRevision: 'no_stream' }));
      expect(await h.store.headPosition()).toBe(r.positions[2]);
    });

    it('a reader iterating while appends happen sees strictly increasing positions and no duplicates', async () => {
      await fill(30);
      const seen: StoredEvent[] = [];
      const reader = (async () => {
        for (let round = 0; round < 4; round++) {
          const after = seen.length === 0 ? 0 : seen[seen.length - 1]!.globalPosition;
          for await (const page of h.store.readAll({ after, batchSize: 7 })) {
            seen.push(...page);
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      })();
      const writer = (async () => {
        for (let i = 0; i < 40; i++) {
          const { customerId, stream } = aCustomer();
          await h.append(stream, someEvents(customerId, 1 + (i % 3)));
        }
      })();
      await within(Promise.all([reader, writer]), WAIT_MS * 3, 'reading while writing');
      const final = await readEverything(h.store);
      expect(expectStrictlyIncreasing(seen.map((s) => s.globalPosition))).toBe(true);
      expect(new Set(seen.map((s) => s.event.eventId)).size).toBe(seen.length);
      expect(seen).toEqual(final.slice(0, seen.length));
    });

    it('positionAt(time) gives the last position recorded at or before the time', async () => {
      const pinned = h.fixture.honoursClock !== false;
      const times = ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'];
      expect(await h.store.positionAt('2024-06-01T00:00:00.000Z')).toBe(0);
      const lastOf: number[] = [];
      for (const t of times) {
        h.clock.pinned = t;
        const { customerId, stream } = aCustomer();
        lastOf.push((await h.append(stream, someEvents(customerId, 3))).positions[2]!);
      }
      h.clock.pinned = undefined;
      const log = await readEverything(h.store);
      if (pinned) {
        expect(log.map((s) => s.recordedAt)).toEqual(times.flatMap((t) => [t, t, t]));
        expect(await h.store.positionAt('2023-12-31T23:59:59.999Z')).toBe(0);
        expect(await h.store.positionAt(times[0]!)).toBe(lastOf[0]);
        expect(await h.store.positionAt('2024-01-15T12:00:00Z')).toBe(lastOf[0]);
        expect(await h.store.positionAt('2024-02-29T23:59:59.999Z')).toBe(lastOf[1]);
        expect(await h.store.positionAt(times[2]!)).toBe(lastOf[2]);
        expect(await h.store.positionAt('2099-01-01T00:00:00Z')).toBe(lastOf[2]);
      } else {
        for (const s of log) {
          const expected = Math.max(
            ...log.filter((o) => o.recordedAt <= s.recordedAt).map((o) => o.globalPosition),
          );
          expect(await h.store.positionAt(s.recordedAt)).toBe(expected);
        }
      }
    });
  });
}
