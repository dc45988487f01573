import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import { FaultServer } from './testing/fault-server.js';
import { registered } from './test-events.js';

describe('the fault server speaks enough of the protocol for the real client (no faults)', () => {
  let server: FaultServer | undefined;
  let store: EventStoreDbEventStore | undefined;
  afterEach(async () => {
    await store?.close();
    server?.stop();
  });

  it('append, readStream, readAll and a subscription round-trip through @eventstore/db-client', async () => {
    server = await FaultServer.start();
    store = openEventStoreDbStore({ connectionString: server.connectionString, deadlineMs: 2_000 });
    const appended = await store.append('customer-c1', [registered('c1')], { expectedRevision: 'no_stream' });
    expect(E.isRight(appended) && appended.right.nextExpectedRevision).toBe(0);
    const read = await store.readStream('customer-c1');
    expect(E.isRight(read) && read.right.map((e) => e.event.customerId)).toEqual(['c1']);
    const pages: number[] = [];
    for await (const page of store.readAll()) pages.push(page.length);
    expect(pages).toEqual([1]);
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const batch of store.subscribe({
      signal: controller.signal,
      onCaughtUp: () => controller.abort(),
    })) {
      seen.push(...batch.map((e) => e.streamName));
    }
    expect(seen).toEqual(['customer-c1']);
    expect(await store.headPosition()).toBeGreaterThan(0);
  });
});
