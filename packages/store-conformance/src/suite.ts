import * as E from 'fp-ts/lib/Either.js';
import {
  GENESIS_LINK,
  canonicalJson,
  chainLink,
  type AppendResult,
  type Clock,
  type EventStore,
  type StoredEvent,
} from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { generateHistory } from '@crm-ledger/synthetic';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  aCustomer,
  anEvent,
  expectStrictlyIncreasing,
  leftOf,
  readEverything,
  rightOf,
  someEvents,
  within,
} from './fixtures.js';
import { InMemoryEventStore } from './memory-store.js';

/** What the suite gives the factory: a clock the suite controls (tests pin it to chosen instants). */
export interface ConformanceContext {
  readonly clock: Clock;
}

export interface ConformanceFixture {
  /** A fresh, empty store. */
  readonly store: EventStore;
  /** Opens another instance over the same storage (e.g. a second connection to the same file). The suite closes it. */
  readonly openSecond?: () => Promise<EventStore>;
  /** Closes `store` and removes its storage. */
  readonly cleanup: () => Promise<void>;
  /** False when the store takes `recordedAt` from elsewhere (a server) and ignores the given clock. Default true. */
  readonly honoursClock?: boolean;
}

export type ConformanceFactory = (context: ConformanceContext) => Promise<ConformanceFixture>;

/** A clock that reads the system time unless a test pins it. */
class ControlledClock implements Clock {
  pinned: string | undefined;
  now(): string {
    return this.pinned ?? new Date().toISOString();
  }
}

const WAIT_MS = 10_000;

/**
 * Registers the conformance suite of the `EventStore` port (vitest `describe`/`it` blocks).
 * Every test gets a fresh store from `factory` and calls `cleanup` after.
 */
export function describeEventStoreConformance(name: string, factory: ConformanceFactory): void {
  describe(`EventStore conformance: ${name}`, () => {
    let fixture: ConformanceFixture;
    let store: EventStore;
    let clock: ControlledClock;
    const seconds: EventStore[] = [];

    beforeEach(async () => {
      clock = new ControlledClock();
      fixture = await factory({ clock });
      store = fixture.store;
    });

    afterEach(async () => {
      for (const s of seconds.splice(0)) await s.close();
      await fixture.cleanup();
    });

    /** Asserts that a failed call left the store exactly as it was. */
    async function expectUnchanged(before: readonly StoredEvent[]): Promise<void> {
      expect(await readEverything(store)).toEqual(before);
      expect(await store.headPosition()).toBe(
        before.length === 0 ? 0 : before[before.length - 1]!.globalPosition,
      );
    }

    async function append(
      stream: string,
      events: readonly RawEnvelope[],
      expectedRevision?: number | 'any' | 'no_stream' | 'stream_exists',
    ): Promise<AppendResult> {
      return rightOf(
        await store.append(stream, events, expectedRevision === undefined ? {} : { expectedRevision }),
      );
    }

    async function second(): Promise<EventStore | undefined> {
      if (fixture.openSecond === undefined) return undefined;
      const s = await fixture.openSecond();
      seconds.push(s);
      return s;
    }

    describe('append and read', () => {
      it('appends a batch to a new stream and reads it back exactly, with revisions 0..n-1', async () => {
        const { customerId, stream } = aCustomer();
        const events = someEvents(customerId, 5);
        const result = await append(stream, events);
        expect(result.streamName).toBe(stream);
        expect(result.duplicate).toBe(false);
        expect(result.nextExpectedRevision).toBe(4);
        expect(result.positions).toHaveLength(5);
        expect(expectStrictlyIncreasing(result.positions)).toBe(true);
        expect(result.positions[0]).toBeGreaterThan(0);
        const read = rightOf(await store.readStream(stream));
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
        await append(stream, someEvents(customerId, 3));
        const more = await append(stream, someEvents(customerId, 4));
        expect(more.nextExpectedRevision).toBe(6);
        const all = rightOf(await store.readStream(stream));
        expect(all.map((s) => s.revision)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        const slice = rightOf(await store.readStream(stream, { fromRevision: 2, maxCount: 3 }));
        expect(slice.map((s) => s.revision)).toEqual([2, 3, 4]);
        expect(slice.map((s) => s.event)).toEqual(all.slice(2, 5).map((s) => s.event));
        expect(rightOf(await store.readStream(stream, { fromRevision: 7 }))).toEqual([]);
      });

      it('reads a stream that does not exist as empty', async () => {
        expect(rightOf(await store.readStream(aCustomer().stream))).toEqual([]);
      });

      it('keeps every event type of a realistic history exactly as appended (round trip)', async () => {
        const appended: RawEnvelope[] = [];
        for (const { customerId, events } of generateHistory({
          seed: 11,
          customers: 40,
          targetEvents: 2_000,
        })) {
          await append(customerStream(customerId), events, 'no_stream');
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
        await append(customerStream('conf-unicode'), [feedback]);
        appended.push(feedback);
        const stored = await readEverything(store, 97);
        expect(stored.map((s) => s.event)).toEqual(appended);
        expect(new Set(stored.map((s) => s.event.type)).size).toBeGreaterThanOrEqual(20);
      });
    });

    describe('expected revision', () => {
      it("'no_stream' succeeds on a new stream and fails on an existing one with its actual revision", async () => {
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 2), 'no_stream');
        const before = await readEverything(store);
        const error = leftOf(
          await store.append(stream, [anEvent(customerId)], { expectedRevision: 'no_stream' }),
        );
        expect(error).toMatchObject({
          type: 'WrongExpectedRevision',
          streamName: stream,
          expected: 'no_stream',
          actual: 1,
        });
        await expectUnchanged(before);
      });

      it("'stream_exists' fails on a missing stream with actual 'no_stream' and succeeds once it exists", async () => {
        const { customerId, stream } = aCustomer();
        const error = leftOf(
          await store.append(stream, [anEvent(customerId)], { expectedRevision: 'stream_exists' }),
        );
        expect(error).toMatchObject({
          type: 'WrongExpectedRevision',
          streamName: stream,
          expected: 'stream_exists',
          actual: 'no_stream',
        });
        await expectUnchanged([]);
        await append(stream, [anEvent(customerId)], 'no_stream');
        const ok = await append(stream, [anEvent(customerId)], 'stream_exists');
        expect(ok.nextExpectedRevision).toBe(1);
      });

      it('an exact revision succeeds when it is the last one and fails otherwise with the actual revision', async () => {
        const { customerId, stream } = aCustomer();
        const missing = leftOf(await store.append(stream, [anEvent(customerId)], { expectedRevision: 0 }));
        expect(missing).toMatchObject({ type: 'WrongExpectedRevision', expected: 0, actual: 'no_stream' });
        const first = await append(stream, someEvents(customerId, 3), 'no_stream');
        const second = await append(stream, someEvents(customerId, 2), first.nextExpectedRevision);
        expect(second.nextExpectedRevision).toBe(4);
        const before = await readEverything(store);
        const stale = leftOf(await store.append(stream, [anEvent(customerId)], { expectedRevision: 2 }));
        expect(stale).toMatchObject({
          type: 'WrongExpectedRevision',
          streamName: stream,
          expected: 2,
          actual: 4,
        });
        const ahead = leftOf(await store.append(stream, [anEvent(customerId)], { expectedRevision: 9 }));
        expect(ahead).toMatchObject({ type: 'WrongExpectedRevision', expected: 9, actual: 4 });
        await expectUnchanged(before);
      });

      it("'any' (the default) always succeeds", async () => {
        const { customerId, stream } = aCustomer();
        expect((await append(stream, [anEvent(customerId)], 'any')).nextExpectedRevision).toBe(0);
        expect((await append(stream, [anEvent(customerId)])).nextExpectedRevision).toBe(1);
        expect((await append(stream, [anEvent(customerId)], 'any')).nextExpectedRevision).toBe(2);
      });
    });

    describe('idempotency by event id', () => {
      it('the same events again succeed with duplicate=true and write nothing, whatever the expected revision', async () => {
        const { customerId, stream } = aCustomer();
        const events = someEvents(customerId, 3);
        const first = await append(stream, events, 'no_stream');
        await append(stream, someEvents(customerId, 2), first.nextExpectedRevision);
        const before = await readEverything(store);
        for (const expectedRevision of ['no_stream', 'any', 'stream_exists', 2, 4, 99] as const) {
          const again = rightOf(await store.append(stream, events, { expectedRevision }));
          expect(again.duplicate, String(expectedRevision)).toBe(true);
          expect(again.streamName).toBe(stream);
        }
        await expectUnchanged(before);
      });

      it('compares content, not key order: the same event with keys reordered is a duplicate', async () => {
        const { customerId, stream } = aCustomer();
        const event = anEvent(customerId);
        await append(stream, [event]);
        const reordered = {
          data: { ...(event.data as object) },
          source: event.source,
          occurredAt: event.occurredAt,
          customerId,
          schemaVersion: 1,
          type: event.type,
          eventId: event.eventId,
        } as RawEnvelope;
        expect(rightOf(await store.append(stream, [reordered])).duplicate).toBe(true);
        expect(await store.headPosition()).toBe(rightOf(await store.readStream(stream))[0]!.globalPosition);
      });

      it("the same id with different content is an IdempotencyConflict 'different_content'", async () => {
        const { customerId, stream } = aCustomer();
        const event = anEvent(customerId);
        await append(stream, [event]);
        const before = await readEverything(store);
        const changed = { ...event, data: { feature: 'something-else' } };
        const error = leftOf(await store.append(stream, [changed]));
        expect(error).toMatchObject({
          type: 'IdempotencyConflict',
          eventId: event.eventId,
          streamName: stream,
          reason: 'different_content',
        });
        await expectUnchanged(before);
      });

      it("the same id in another stream is an IdempotencyConflict 'different_stream'", async () => {
        const { customerId, stream } = aCustomer();
        const event = anEvent(customerId);
        await append(stream, [event]);
        const before = await readEverything(store);
        // Not a customer stream: stores may refuse a customer stream that holds another customer's events.
        const other = `conformance-other-${customerId}`;
        const error = leftOf(await store.append(other, [event]));
        expect(error).toMatchObject({
          type: 'IdempotencyConflict',
          eventId: event.eventId,
          reason: 'different_stream',
        });
        await expectUnchanged(before);
        expect(rightOf(await store.readStream(other))).toEqual([]);
      });

      it("a batch mixing stored and new events is an IdempotencyConflict 'partial_batch'", async () => {
        const { customerId, stream } = aCustomer();
        const stored = someEvents(customerId, 2);
        await append(stream, stored);
        const before = await readEverything(store);
        const error = leftOf(await store.append(stream, [stored[0]!, anEvent(customerId), stored[1]!]));
        expect(error).toMatchObject({
          type: 'IdempotencyConflict',
          streamName: stream,
          reason: 'partial_batch',
        });
        expect(stored.map((e) => e.eventId)).toContain((error as { eventId: string }).eventId);
        await expectUnchanged(before);
      });

      it('the same id twice in one batch is a typed error and writes nothing', async () => {
        const { customerId, stream } = aCustomer();
        const event = anEvent(customerId);
        const error = leftOf(await store.append(stream, [event, anEvent(customerId), event]));
        expect(['InvalidAppend', 'IdempotencyConflict']).toContain(error.type);
        await expectUnchanged([]);
      });
    });

    describe('atomicity and bad input', () => {
      it('an invalid event in the middle of a batch fails the whole batch with its index', async () => {
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 1));
        const before = await readEverything(store);
        const batch = someEvents(customerId, 5);
        batch[2] = { ...batch[2]!, data: { feature: 'Not A Slug!' } };
        const error = leftOf(await store.append(stream, batch));
        expect(error).toMatchObject({ type: 'InvalidAppend', index: 2 });
        expect((error as { issues?: unknown[] }).issues?.length ?? 0).toBeGreaterThan(0);
        await expectUnchanged(before);
      });

      it('rejects an empty batch and bad stream names with InvalidAppend', async () => {
        const { customerId, stream } = aCustomer();
        expect(leftOf(await store.append(stream, [])).type).toBe('InvalidAppend');
        expect(leftOf(await store.append('', [anEvent(customerId)])).type).toBe('InvalidAppend');
        expect(leftOf(await store.append(undefined as unknown as string, [anEvent(customerId)])).type).toBe(
          'InvalidAppend',
        );
        expect(leftOf(await store.append(stream, undefined as unknown as RawEnvelope[])).type).toBe(
          'InvalidAppend',
        );
        await expectUnchanged([]);
      });

      it('rejects invalid envelopes and data with InvalidAppend and the index', async () => {
        const { customerId, stream } = aCustomer();
        const good = anEvent(customerId);
        const bad: unknown[] = [
          { ...good, eventId: 'not-a-uuid' },
          { ...good, unexpected: true },
          { ...good, customerId: undefined },
          { ...good, occurredAt: 'yesterday' },
          { ...good, type: 'NoSuchEvent' },
          { ...good, schemaVersion: 7 },
          { ...good, type: 'SurveyAnswered', data: { kind: 'NPS', score: 11, surveyId: 's-1' } },
          null,
          'a string',
        ];
        for (const b of bad) {
          const error = leftOf(await store.append(stream, [anEvent(customerId), b as RawEnvelope]));
          expect(error, JSON.stringify(b)).toMatchObject({ type: 'InvalidAppend', index: 1 });
        }
        await expectUnchanged([]);
      });

      it('rejects data that JSON cannot represent with InvalidAppend', async () => {
        const { customerId, stream } = aCustomer();
        const cyclic: Record<string, unknown> = { feature: 'x' };
        cyclic.self = cyclic;
        const cases: unknown[] = [
          { ...anEvent(customerId), data: { feature: 'x', n: 10n } },
          { ...anEvent(customerId), data: cyclic },
          { ...anEvent(customerId), data: { feature: 'x', f: () => 1 } },
          { ...anEvent(customerId), type: 'FeedbackGiven', data: { channel: 'web', sentiment: Number.NaN } },
        ];
        for (const c of cases) {
          const error = leftOf(await store.append(stream, [c as RawEnvelope]));
          expect(error.type).toBe('InvalidAppend');
        }
        await expectUnchanged([]);
      });

      it('rejects a malformed expected revision with InvalidAppend', async () => {
        const { customerId, stream } = aCustomer();
        for (const expectedRevision of [-1, 1.5, Number.NaN, 'latest']) {
          const error = leftOf(
            await store.append(stream, [anEvent(customerId)], {
              expectedRevision: expectedRevision as number,
            }),
          );
          expect(error.type, String(expectedRevision)).toBe('InvalidAppend');
        }
        await expectUnchanged([]);
      });

      it('rejects bad readStream arguments with a typed error', async () => {
        expect(leftOf(await store.readStream('')).type).toBe('InvalidAppend');
        expect(leftOf(await store.readStream(aCustomer().stream, { fromRevision: -1 })).type).toBe(
          'InvalidAppend',
        );
        expect(leftOf(await store.readStream(aCustomer().stream, { maxCount: -5 })).type).toBe(
          'InvalidAppend',
        );
      });
    });

    describe('concurrency', () => {
      it('20 racing appends at the same exact revision: exactly one wins, the others get WrongExpectedRevision', async () => {
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 2));
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.append(stream, someEvents(customerId, 2), { expectedRevision: 1 }),
          ),
        );
        const winners = results.filter(E.isRight);
        expect(winners).toHaveLength(1);
        expect(winners[0]!.right.nextExpectedRevision).toBe(3);
        for (const r of results.filter(E.isLeft)) {
          expect(r.left).toMatchObject({ type: 'WrongExpectedRevision', expected: 1, actual: 3 });
        }
        const read = rightOf(await store.readStream(stream));
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
                const current = rightOf(await store.readStream(stream));
                const last = current.length === 0 ? 'no_stream' : current[current.length - 1]!.revision;
                const r = await store.append(stream, [event], { expectedRevision: last });
                if (E.isRight(r)) break;
                expect(r.left.type).toBe('WrongExpectedRevision');
              }
              mine[w]!.push(event.eventId);
            }
          }),
        );
        const read = rightOf(await store.readStream(stream));
        expect(read.map((s) => s.revision)).toEqual(Array.from({ length: writers * each }, (_, i) => i));
        expect(expectStrictlyIncreasing(read.map((s) => s.globalPosition))).toBe(true);
        const order = read.map((s) => s.event.eventId);
        for (const ids of mine) expect(order.filter((id) => ids.includes(id))).toEqual(ids);
      });

      it('the same race across two instances over the same storage: exactly one wins', async (ctx) => {
        const other = await second();
        if (other === undefined) return ctx.skip();
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 1));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? store : other).append(stream, someEvents(customerId, 1), { expectedRevision: 0 }),
          ),
        );
        expect(results.filter(E.isRight)).toHaveLength(1);
        for (const r of results.filter(E.isLeft))
          expect(r.left).toMatchObject({ type: 'WrongExpectedRevision', actual: 1 });
        for (const s of [store, other]) {
          expect(rightOf(await s.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
        }
      });

      it('two instances appending to many streams keep revisions contiguous and positions unique', async (ctx) => {
        const other = await second();
        if (other === undefined) return ctx.skip();
        const customers = Array.from({ length: 6 }, () => aCustomer());
        await Promise.all(
          customers.flatMap(({ customerId, stream }) =>
            [store, other].map(async (s) => {
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
        expect(await readEverything(store)).toEqual(log);
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
              const r = await append(stream, batch, expected);
              expected = r.nextExpectedRevision;
              ids.push(...batch.map((e) => e.eventId));
            }
            sent.set(stream, ids);
          }),
        );
        const log = await readEverything(store, 50);
        expect(log).toHaveLength(25 * (1 + 2 + 3 + 1));
        expect(expectStrictlyIncreasing(log.map((s) => s.globalPosition))).toBe(true);
        for (const { stream } of customers) {
          const mine = log.filter((s) => s.streamName === stream);
          expect(mine.map((s) => s.event.eventId)).toEqual(sent.get(stream));
          expect(mine.map((s) => s.revision)).toEqual(mine.map((_, i) => i));
        }
      });
    });

    describe('the global log', () => {
      async function fill(n: number): Promise<StoredEvent[]> {
        for (let i = 0; i < n; i += 3) {
          const { customerId, stream } = aCustomer();
          await append(stream, someEvents(customerId, Math.min(3, n - i)));
        }
        return readEverything(store);
      }

      it('reads in pages of at most batchSize, in order, everything once', async () => {
        const all = await fill(25);
        expect(all).toHaveLength(25);
        const pages: (readonly StoredEvent[])[] = [];
        for await (const page of store.readAll({ batchSize: 10 })) pages.push(page);
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
          for await (const page of store.readAll(options)) out.push(...page);
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
        expect(await store.headPosition()).toBe(0);
        const { customerId, stream } = aCustomer();
        const r = await append(stream, someEvents(customerId, 3));
        expect(await store.headPosition()).toBe(r.positions[2]);
        leftOf(await store.append(stream, [anEvent(customerId)], { expectedRevision: 'no_stream' }));
        expect(await store.headPosition()).toBe(r.positions[2]);
      });

      it('a reader iterating while appends happen sees strictly increasing positions and no duplicates', async () => {
        await fill(30);
        const seen: StoredEvent[] = [];
        const reader = (async () => {
          for (let round = 0; round < 4; round++) {
            const after = seen.length === 0 ? 0 : seen[seen.length - 1]!.globalPosition;
            for await (const page of store.readAll({ after, batchSize: 7 })) {
              seen.push(...page);
              await new Promise((resolve) => setImmediate(resolve));
            }
          }
        })();
        const writer = (async () => {
          for (let i = 0; i < 40; i++) {
            const { customerId, stream } = aCustomer();
            await append(stream, someEvents(customerId, 1 + (i % 3)));
          }
        })();
        await within(Promise.all([reader, writer]), WAIT_MS * 3, 'reading while writing');
        const final = await readEverything(store);
        expect(expectStrictlyIncreasing(seen.map((s) => s.globalPosition))).toBe(true);
        expect(new Set(seen.map((s) => s.event.eventId)).size).toBe(seen.length);
        expect(seen).toEqual(final.slice(0, seen.length));
      });

      it('positionAt(time) gives the last position recorded at or before the time', async () => {
        const pinned = fixture.honoursClock !== false;
        const times = ['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'];
        expect(await store.positionAt('2024-06-01T00:00:00.000Z')).toBe(0);
        const lastOf: number[] = [];
        for (const t of times) {
          clock.pinned = t;
          const { customerId, stream } = aCustomer();
          lastOf.push((await append(stream, someEvents(customerId, 3))).positions[2]!);
        }
        clock.pinned = undefined;
        const log = await readEverything(store);
        if (pinned) {
          expect(log.map((s) => s.recordedAt)).toEqual(times.flatMap((t) => [t, t, t]));
          expect(await store.positionAt('2023-12-31T23:59:59.999Z')).toBe(0);
          expect(await store.positionAt(times[0]!)).toBe(lastOf[0]);
          expect(await store.positionAt('2024-01-15T12:00:00Z')).toBe(lastOf[0]);
          expect(await store.positionAt('2024-02-29T23:59:59.999Z')).toBe(lastOf[1]);
          expect(await store.positionAt(times[2]!)).toBe(lastOf[2]);
          expect(await store.positionAt('2099-01-01T00:00:00Z')).toBe(lastOf[2]);
        } else {
          for (const s of log) {
            const expected = Math.max(
              ...log.filter((o) => o.recordedAt <= s.recordedAt).map((o) => o.globalPosition),
            );
            expect(await store.positionAt(s.recordedAt)).toBe(expected);
          }
        }
      });
    });

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
        await append(stream, [first!]);
        const [stored] = rightOf(await store.readStream(stream));
        expect(stored!.hash).toBe(chainLink('0'.repeat(64), stream, 0, canonicalJson(first)));
      });

      it('the revisions of a batch chain in order, and later appends continue the chain', async () => {
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 5));
        await append(stream, someEvents(customerId, 3), 4);
        const read = rightOf(await store.readStream(stream));
        expect(read).toHaveLength(8);
        expectChained(read);
        expect(new Set(read.map((s) => s.hash)).size).toBe(8);
        // The same links through every read path.
        const fromLog = (await readEverything(store, 3)).filter((s) => s.streamName === stream);
        expect(fromLog.map((s) => s.hash)).toEqual(read.map((s) => s.hash));
        const tail = rightOf(await store.readStream(stream, { fromRevision: 5 }));
        expect(tail.map((s) => s.hash)).toEqual(read.slice(5).map((s) => s.hash));
      });

      it('streams chain independently when their appends interleave', async () => {
        const a = aCustomer();
        const b = aCustomer();
        for (let i = 0; i < 4; i++) {
          await append(a.stream, someEvents(a.customerId, 2));
          await append(b.stream, someEvents(b.customerId, 1));
        }
        expectChained(rightOf(await store.readStream(a.stream)));
        expectChained(rightOf(await store.readStream(b.stream)));
      });

      it('a duplicate append or a refused one does not change any link', async () => {
        const { customerId, stream } = aCustomer();
        const events = someEvents(customerId, 3);
        await append(stream, events);
        const before = await readEverything(store);
        const retry = await append(stream, events, 0);
        expect(retry.duplicate).toBe(true);
        const conflict = await store.append(stream, [{ ...events[1]!, data: { feature: 'changed' } }]);
        expect(leftOf(conflict).type).toBe('IdempotencyConflict');
        expect(await readEverything(store)).toEqual(before);
        const next = someEvents(customerId, 1);
        await append(stream, next, 2);
        const after = rightOf(await store.readStream(stream));
        expect(after.slice(0, 3).map((s) => s.hash)).toEqual(before.map((s) => s.hash));
        expectChained(after);
      });

      it('identical histories give identical links in this store and in the reference store', async () => {
        const reference = new InMemoryEventStore();
        try {
          for (const { customerId, events } of generateHistory({
            seed: 5,
            customers: 6,
            targetEvents: 120,
          })) {
            const half = Math.ceil(events.length / 2);
            for (const target of [store, reference]) {
              rightOf(await target.append(customerStream(customerId), events.slice(0, half)));
              if (half < events.length)
                rightOf(await target.append(customerStream(customerId), events.slice(half)));
            }
          }
          const mine = await readEverything(store);
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
        const other = await second();
        if (other === undefined) return ctx.skip();
        const { customerId, stream } = aCustomer();
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? store : other).append(stream, someEvents(customerId, 2)),
          ),
        );
        const read = rightOf(await store.readStream(stream));
        expect(read).toHaveLength(20);
        expectChained(read);
      });
    });

    describe('subscriptions', () => {
      it('catches up on stored events, reports it, then delivers new appends live until aborted', async () => {
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 30));
        const abort = new AbortController();
        const caughtUp: number[] = [];
        const seen: StoredEvent[] = [];
        let live: Promise<unknown> | undefined;
        const loop = (async () => {
          for await (const page of store.subscribe({
            batchSize: 8,
            signal: abort.signal,
            onCaughtUp: (position) => {
              caughtUp.push(position);
              live ??= (async () => {
                for (let i = 0; i < 5; i++) await append(stream, someEvents(customerId, 2));
              })();
            },
          })) {
            for (const page8 of [page]) expect(page8.length).toBeLessThanOrEqual(8);
            seen.push(...page);
            if (seen.length >= 40) abort.abort();
          }
        })();
        await within(loop, WAIT_MS, 'subscription catch-up then live');
        await live;
        const all = await readEverything(store);
        expect(all).toHaveLength(40);
        expect(seen).toEqual(all);
        expect(caughtUp[0]).toBe(all[29]!.globalPosition);
      });

      it('starts after a checkpoint and ends when aborted while waiting', async () => {
        const { customerId, stream } = aCustomer();
        const r = await append(stream, someEvents(customerId, 10));
        const abort = new AbortController();
        const seen: StoredEvent[] = [];
        let caught = 0;
        const loop = (async () => {
          for await (const page of store.subscribe({
            after: r.positions[5]!,
            signal: abort.signal,
            onCaughtUp: (position) => {
              caught = position;
              setTimeout(() => abort.abort(), 20);
            },
          })) {
            seen.push(...page);
          }
        })();
        await within(loop, WAIT_MS, 'subscription ends on abort');
        expect(seen.map((s) => s.globalPosition)).toEqual(r.positions.slice(6));
        expect(caught).toBe(r.positions[9]);
      });

      it('an already aborted signal ends the subscription at once', async () => {
        const { customerId, stream } = aCustomer();
        await append(stream, someEvents(customerId, 3));
        const abort = new AbortController();
        abort.abort();
        const seen: StoredEvent[] = [];
        await within(
          (async () => {
            for await (const page of store.subscribe({ signal: abort.signal })) seen.push(...page);
          })(),
          WAIT_MS,
          'aborted subscription',
        );
        expect(seen.length).toBeLessThanOrEqual(3);
      });

      it('a subscription on one instance sees appends made through another instance', async (ctx) => {
        const other = await second();
        if (other === undefined) return ctx.skip();
        const { customerId, stream } = aCustomer();
        const abort = new AbortController();
        const seen: StoredEvent[] = [];
        let started = false;
        const loop = (async () => {
          for await (const page of store.subscribe({
            signal: abort.signal,
            onCaughtUp: () => {
              if (started) return;
              started = true;
              void other.append(stream, someEvents(customerId, 3));
            },
          })) {
            seen.push(...page);
            if (seen.length >= 3) abort.abort();
          }
        })();
        await within(loop, WAIT_MS, 'subscription across instances');
        expect(seen.map((s) => s.revision)).toEqual([0, 1, 2]);
      });
    });
  });
}
