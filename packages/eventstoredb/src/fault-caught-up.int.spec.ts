import { afterEach, describe, expect, it } from 'vitest';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import { FaultServer } from './testing/fault-server.js';
import { seed } from './testing/seed.js';

// Issue #22 item 7: the server's CaughtUp arrives on the same gRPC stream as the events, and the client
// buffers both while a slow consumer (a projector writing each batch) works. onCaughtUp must be called only
// once every event the server sent before CaughtUp has been handed over, with the last one's position.
describe('onCaughtUp waits for the batch in hand (real client, fault server)', () => {
  let server: FaultServer | undefined;
  let store: EventStoreDbEventStore | undefined;
  afterEach(async () => {
    await store?.close();
    server?.stop();
  });

  for (const [events, batchSize] of [
    [20, 8],
    [22, 8],
    [30, 8],
    [45, 10],
    [47, 10],
  ] as const) {
    it(`${events} stored events, batches of ${batchSize}, a slow consumer`, async () => {
      server = await FaultServer.start();
      seed(server, events);
      store = openEventStoreDbStore({ connectionString: server.connectionString });
      const controller = new AbortController();
      const delivered: number[] = [];
      let atCaughtUp: { count: number; position: number } | undefined;
      for await (const batch of store.subscribe({
        batchSize,
        signal: controller.signal,
        onCaughtUp: (position) => {
          atCaughtUp ??= { count: delivered.length, position };
          controller.abort();
        },
      })) {
        delivered.push(...batch.map((e) => e.globalPosition));
        await new Promise((r) => setTimeout(r, 20)); // the consumer's own work
      }
      expect(atCaughtUp).toEqual({ count: events, position: server.log[events - 1]!.position });
    });
  }
});
