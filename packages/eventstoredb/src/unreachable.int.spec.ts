import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import type { ResubscribeInfo } from './subscription.js';
import { registered } from './test-events.js';

// The real client against a port where nothing listens: what a service sees while EventStoreDB is down.
const NOWHERE = 'esdb://127.0.0.1:1?tls=false';

describe('EventStoreDB unreachable (real client, no server)', () => {
  let store: EventStoreDbEventStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('append and readStream answer StoreUnavailable (as data, not a throw)', async () => {
    store = openEventStoreDbStore({ connectionString: NOWHERE, deadlineMs: 2_000 });
    const appended = await store.append('customer-c1', [registered('c1')]);
    expect(E.isLeft(appended) && appended.left.type).toBe('StoreUnavailable');
    const read = await store.readStream('customer-c1');
    expect(E.isLeft(read) && read.left).toMatchObject({
      type: 'StoreUnavailable',
      message: expect.stringMatching(/unavailable/i) as string,
    });
  });

  it('a subscription resubscribes with capped backoff, never gives up, and ends when aborted', async () => {
    const seen: ResubscribeInfo[] = [];
    const controller = new AbortController();
    store = openEventStoreDbStore({
      connectionString: NOWHERE,
      resubscribe: { initialDelayMs: 5, maxDelayMs: 10 },
      onResubscribe: (info) => {
        seen.push(info);
        if (seen.length === 4) controller.abort();
      },
    });
    const iterate = async () => {
      for await (const _ of store!.subscribe({ after: 42, signal: controller.signal })) {
        /* nothing arrives */
      }
    };
    await expect(iterate()).resolves.toBeUndefined();
    expect(seen.map((s) => [s.attempt, s.delayMs, s.after])).toEqual([
      [1, 5, 42],
      [2, 10, 42],
      [3, 10, 42],
      [4, 10, 42],
    ]);
  });

  it('aborting a subscription that is waiting to resubscribe ends it cleanly', async () => {
    store = openEventStoreDbStore({
      connectionString: NOWHERE,
      resubscribe: { initialDelayMs: 60_000 },
    });
    const controller = new AbortController();
    const iterate = async () => {
      let batches = 0;
      for await (const _ of store!.subscribe({ signal: controller.signal })) batches += 1;
      return batches;
    };
    const done = iterate();
    setTimeout(() => controller.abort(), 300);
    await expect(done).resolves.toBe(0);
  });

  it('readAll and headPosition throw (infrastructure failure mid-iteration)', async () => {
    store = openEventStoreDbStore({ connectionString: NOWHERE, deadlineMs: 2_000 });
    const iterate = async () => {
      for await (const _ of store!.readAll()) {
        /* nothing */
      }
    };
    await expect(iterate()).rejects.toThrow(/unavailable/i);
    await expect(store.headPosition()).rejects.toThrow(/unavailable/i);
  });
});
