import * as E from 'fp-ts/lib/Either.js';
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

export function concurrencyCases(h: Harness): void {
  describe('concurrency', () => {
    it('20 racing appends at the same exact revision: exactly one wins, the others get WrongExpectedRevision', async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 2));
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          h.store.append(stream, someEvents(customerId, 2), { expectedRevision: 1 }),
        ),
      );
      const winners = results.filter(E.isRight);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.right.nextExpectedRevision).toBe(3);
      for (const r of results.filter(E.isLeft)) {
        expect(r.left).toMatchObject({ type: 'WrongExpectedRevision', expected: 1, actual: 3 });
      }
      const read = rightOf(await h.store.readStream(stream));
      expect(read.map((s) => s.revision)).toEqual([0, 1, 2, 3]);
    });

    it('appenders that read, append and retry on conflict build one stream with no gaps', async () => {
      const { customerId, stream } = aCustomer();
      const writers = 6;
      const each = 8;
      const mine: string[][] = Array.from({ length: writers }, () => []);
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < each; i++) {
            const event = anEvent(customerId);
            for (let attempt = 0; ; attempt++) {
              expect(attempt).toBeLessThan(200);
              const current = rightOf(await h.store.readStream(stream));
              const last = current.length === 0 ? 'no_stream' : current[current.length - 1]!.revision;
              const r = await h.store.append(stream, [event], { expectedRevision: last });
              if (E.isRight(r)) break;
              expect(r.left.type).toBe('WrongExpectedRevision');
            }
            mine[w]!.push(event.eventId);
          }
        }),
      );
      const read = rightOf(await h.store.readStream(stream));
      expect(read.map((s) => s.revision)).toEqual(Array.from({ length: writers * each }, (_, i) => i));
      expect(expectStrictlyIncreasing(read.map((s) => s.globalPosition))).toBe(true);
      const order = read.map((s) => s.event.eventId);
      for (const ids of mine) expect(order.filter((id) => ids.includes(id))).toEqual(ids);
    });

    it('the same race across two instances over the same storage: exactly one wins', async (ctx) => {
      const other = await h.second();
      if (other === undefined) return ctx.skip();
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 1));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? h.store : other).append(stream, someEvents(customerId, 1), { expectedRevision: 0 }),
        ),
      );
      expect(results.filter(E.isRight)).toHaveLength(1);
      for (const r of results.filter(E.isLeft))
        expect(r.left).toMatchObject({ type: 'WrongExpectedRevision', actual: 1 });
      for (const s of [h.store, other]) {
        expect(rightOf(await s.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
      }
    });

    it('two instances appending to many streams keep revisions contiguous and positions unique', async (ctx) => {
      const other = await h.second();
      if (other === undefined) return ctx.skip();
      const customers = Array.from({ length: 6 }, () => aCustomer());
      await Promise.all(
        customers.flatMap(({ customerId, stream }) =>
          [h.store, other].map(async (s) => {
            for (let i = 0; i < 5; i++) rightOf(await s.append(stream, someEvents(customerId, 2)));
          }),
        ),
      );
      const log = await readEverything(other, 13);
      expect(log).toHaveLength(6 * 2 * 5 * 2);
      expect(expectStrictlyIncreasing(log.map((s) => s.globalPosition))).toBe(true);
      for (const { stream } of customers) {
        const revisions = log.filter((s) => s.streamName === stream).map((s) => s.revision);
        expect(revisions).toEqual(Array.from({ length: 20 }, (_, i) => i));
      }
      expect(await readEverything(h.store)).toEqual(log);
    });

    it('many streams appended concurrently keep per-stream order and strictly increasing global positions', async () => {
      const customers = Array.from({ length: 25 }, () => aCustomer());
      const sent = new Map<string, string[]>();
      await Promise.all(
        customers.map(async ({ customerId, stream }) => {
          let expected: number | 'no_stream' = 'no_stream';
          const ids: string[] = [];
          for (let i = 0; i < 4; i++) {
            const batch = someEvents(customerId, 1 + (i % 3));
            const r = await h.append(stream, batch, expected);
            expected = r.nextExpectedRevision;
            ids.push(...batch.map((e) => e.eventId));
          }
          sent.set(stream, ids);
        }),
      );
      const log = await readEverything(h.store, 50);
      expect(log).toHaveLength(25 * (1 + 2 + 3 + 1));
      expect(expectStrictlyIncreasing(log.map((s) => s.globalPosition))).toBe(true);
      for (const { stream } of customers) {
        const mine = log.filter((s) => s.streamName === stream);
        expect(mine.map((s) => s.event.eventId)).toEqual(sent.get(stream));
        expect(mine.map((s) => s.revision)).toEqual(mine.map((_, i) => i));
      }
    });
  });
}
