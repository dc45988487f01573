import { GENESIS_LINK, canonicalJson, chainLink, type StoredEvent } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { generateHistory } from '@crm-ledger/synthetic';
import { describe, expect, it } from 'vitest';
import { aCustomer, leftOf, readEverything, rightOf, someEvents } from '../fixtures.js';
import { InMemoryEventStore } from '../memory-store.js';
import type { Harness } from '../harness.js';

export function hashChainCases(h: Harness): void {
  describe('hash chain', () => {
    /** Asserts that every event of the stream links to the one before it, from 64 zeros, over its stored bytes. */
    function expectChained(events: readonly StoredEvent[]): void {
      let prev = GENESIS_LINK;
      events.forEach((s, revision) => {
        expect(s.revision).toBe(revision);
        expect(s.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(s.hash).toBe(chainLink(prev, s.streamName, s.revision, canonicalJson(s.event)));
        prev = s.hash;
      });
    }

    it("a stream's links chain from 64 zeros, and revision 0 links to them", async () => {
      const { customerId, stream } = aCustomer();
      const [first] = someEvents(customerId, 1);
      await h.append(stream, [first!]);
      const [stored] = rightOf(await h.store.readStream(stream));
      expect(stored!.hash).toBe(chainLink('0'.repeat(64), stream, 0, canonicalJson(first)));
    });

    it('the revisions of a batch chain in order, and later appends continue the chain', async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 5));
      await h.append(stream, someEvents(customerId, 3), 4);
      const read = rightOf(await h.store.readStream(stream));
      expect(read).toHaveLength(8);
      expectChained(read);
      expect(new Set(read.map((s) => s.hash)).size).toBe(8);
      // The same links through every read path.
      const fromLog = (await readEverything(h.store, 3)).filter((s) => s.streamName === stream);
      expect(fromLog.map((s) => s.hash)).toEqual(read.map((s) => s.hash));
      const tail = rightOf(await h.store.readStream(stream, { fromRevision: 5 }));
      expect(tail.map((s) => s.hash)).toEqual(read.slice(5).map((s) => s.hash));
    });

    it('streams chain independently when their appends interleave', async () => {
      const a = aCustomer();
      const b = aCustomer();
      for (let i = 0; i < 4; i++) {
        await h.append(a.stream, someEvents(a.customerId, 2));
        await h.append(b.stream, someEvents(b.customerId, 1));
      }
      expectChained(rightOf(await h.store.readStream(a.stream)));
      expectChained(rightOf(await h.store.readStream(b.stream)));
    });

    it('a duplicate append or a refused one does not change any link', async () => {
      const { customerId, stream } = aCustomer();
      const events = someEvents(customerId, 3);
      await h.append(stream, events);
      const before = await readEverything(h.store);
      const retry = await h.append(stream, events, 0);
      expect(retry.duplicate).toBe(true);
      const conflict = await h.store.append(stream, [{ ...events[1]!, data: { feature: 'changed' } }]);
      expect(leftOf(conflict).type).toBe('IdempotencyConflict');
      expect(await readEverything(h.store)).toEqual(before);
      const next = someEvents(customerId, 1);
      await h.append(stream, next, 2);
      const after = rightOf(await h.store.readStream(stream));
      expect(after.slice(0, 3).map((s) => s.hash)).toEqual(before.map((s) => s.hash));
      expectChained(after);
    });

    it('identical histories give identical links in this store and in the reference store', async () => {
      const bare = new InMemoryEventStore();
      const reference = h.fixture.decorateReference?.(bare) ?? bare;
      try {
        for (const { customerId, events } of generateHistory({
          seed: 5,
          customers: 6,
          targetEvents: 120,
        })) {
          const half = Math.ceil(events.length / 2);
          for (const target of [h.store, reference]) {
            rightOf(await target.append(customerStream(customerId), events.slice(0, half)));
            if (half < events.length)
              rightOf(await target.append(customerStream(customerId), events.slice(half)));
          }
        }
        const mine = await readEverything(h.store);
        const theirs = await readEverything(reference);
        expect(mine.length).toBeGreaterThan(50);
        expect(mine.map((s) => [s.streamName, s.revision, s.hash])).toEqual(
          theirs.map((s) => [s.streamName, s.revision, s.hash]),
        );
      } finally {
        await reference.close();
      }
    });

    it('racing appenders on two instances still chain every event to its predecessor', async (ctx) => {
      const other = await h.second();
      if (other === undefined) return ctx.skip();
      const { customerId, stream } = aCustomer();
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? h.store : other).append(stream, someEvents(customerId, 2)),
        ),
      );
      const read = rightOf(await h.store.readStream(stream));
      expect(read).toHaveLength(20);
      expectChained(read);
    });
  });
}
