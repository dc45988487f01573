import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import { FaultServer } from './testing/fault-server.js';
import { seed, writeEnvelope } from './testing/seed.js';
import { registered } from './test-events.js';

/** Fails (instead of hanging the suite) when `p` takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms),
    ),
  ]);
}

describe('appends under faults (real client, fault server)', () => {
  const servers: FaultServer[] = [];
  const stores: EventStoreDbEventStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const s of servers.splice(0)) s.stop();
  });
  async function node(): Promise<FaultServer> {
    const s = await FaultServer.start();
    servers.push(s);
    return s;
  }
  function open(server: FaultServer, extra: Partial<Parameters<typeof openEventStoreDbStore>[0]> = {}) {
    const s = openEventStoreDbStore({
      connectionString: server.connectionString,
      deadlineMs: 3_000,
      ...extra,
    });
    stores.push(s);
    return s;
  }

  // Issue #22 item 3: in 6.2.1 every BatchAppend shares one module-wide promise bank. When one connection's
  // batch stream breaks (a failover), the client fails every pending append of the process, written or not,
  // and the late reply of another connection then throws `TypeError: undefined is not iterable` in a stream
  // handler: an uncaught exception that ends the process.
  it('a broken connection fails neither the appends of another connection nor the process', async () => {
    const [a, b] = [await node(), await node()];
    const [x, y] = [open(a), open(b)];
    // Both connections are up and have appended once (the client then knows the server's features).
    expect(E.isRight(await x.append('customer-x', [registered('x', 1)]))).toBe(true);
    expect(E.isRight(await y.append('customer-y', [registered('y', 1)]))).toBe(true);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      b.faults.holdAppends = true;
      const pending = y.append('customer-y', [registered('y', 2)]);
      await new Promise((r) => setTimeout(r, 100)); // y's append waits on node b
      a.faults.breakAppendAfterWrite = true; // x's connection breaks after its write
      const broken = await x.append('customer-x', [registered('x', 2)]);
      b.releaseAppends();
      const late = await within(pending, 5_000, "y's append");
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
      // y's append was written and answered: it succeeded.
      expect(late).toEqual(E.right(expect.objectContaining({ nextExpectedRevision: 1, duplicate: false })));
      // x's append was written before its connection broke: the adapter finds it rather than report a failure.
      expect(broken).toEqual(E.right(expect.objectContaining({ nextExpectedRevision: 1 })));
      expect(a.log.filter((r) => r.streamId === 'customer-x')).toHaveLength(2);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  // Issue #22 item 6: 'any' is read-then-append-at-that-revision; under contention it must keep trying
  // (with backoff) rather than answer 503 after five immediate tries.
  it("'any' gets through eight racing writers in a row", async () => {
    const s = await node();
    seed(s, 1);
    const store = open(s);
    s.faults.racingWriter = 8;
    const r = await store.append('customer-c1', [registered('c1', 100)], { expectedRevision: 'any' });
    expect(r).toEqual(E.right(expect.objectContaining({ nextExpectedRevision: 9, duplicate: false })));
  });

  // Issue #22 item 8: an append reads a bounded window of its stream, never the whole stream.
  it('an append to a long stream reads a bounded window, and a retry is still recognised', async () => {
    const s = await node();
    seed(s, 3_000);
    const store = open(s, { idempotencyWindow: 500 });
    const r = await store.append('customer-c1', [registered('c1', 5_000)]);
    expect(r).toEqual(E.right(expect.objectContaining({ nextExpectedRevision: 3_000 })));
    const reads = s.calls.filter((c) => c.method === 'read' && c.kind === 'stream');
    expect(reads.length).toBeGreaterThan(0);
    expect(Math.max(...reads.map((c) => c.count ?? Infinity))).toBeLessThanOrEqual(500);
    // A retry with the revision the caller expected is recognised exactly, however old.
    const retry = await store.append('customer-c1', [registered('c1', 11)], { expectedRevision: 9 });
    expect(retry).toEqual(
      E.right(expect.objectContaining({ duplicate: true, positions: [s.log[10]!.position] })),
    );
    // And the recent one with 'any'.
    const again = await store.append('customer-c1', [registered('c1', 5_000)]);
    expect(again).toEqual(E.right(expect.objectContaining({ duplicate: true })));
  });

  // Issue #22 item 8: refusals by the server are not outages: retrying cannot help, so not StoreUnavailable.
  it('BadRequest and MaximumAppendSizeExceeded from the server are InvalidAppend, not StoreUnavailable', async () => {
    const s = await node();
    const store = open(s);
    s.faults.appendError = 'invalid-argument';
    const bad = await store.append('customer-c1', [registered('c1', 1)]);
    expect(E.isLeft(bad) && bad.left.type).toBe('InvalidAppend');
    s.faults.appendError = 'maximum-append-size-exceeded';
    const big = await store.append('customer-c1', [registered('c1', 1)]);
    expect(E.isLeft(big) && big.left.type).toBe('InvalidAppend');
  });

  // Issue #22 item 8: the client applies no deadline to reads; the adapter does.
  it('a stalled node: readStream and append answer StoreUnavailable within the deadline', async () => {
    const s = await node();
    seed(s, 1);
    const store = open(s, { deadlineMs: 300 });
    s.faults.stallReads = true;
    const read = await within(store.readStream('customer-c1'), 5_000, 'readStream');
    expect(read).toEqual(E.left(expect.objectContaining({ type: 'StoreUnavailable' })));
    const appended = await within(store.append('customer-c1', [registered('c1', 2)]), 5_000, 'append');
    expect(appended).toEqual(E.left(expect.objectContaining({ type: 'StoreUnavailable' })));
    const pages = (async () => {
      for await (const _ of store.readAll()) {
        /* nothing arrives */
      }
    })();
    await expect(within(pages, 5_000, 'readAll')).rejects.toThrow(/deadline/);
  });

  // Issue #22 item 8: the /ready probe asks headPosition() every few seconds: one read of $all per
  // headCacheMs, not one per probe; concurrent probes share it.
  it('headPosition() reads $all once per headCacheMs however often it is asked', async () => {
    const s = await node();
    seed(s, 3);
    const store = open(s, { headCacheMs: 60_000 });
    const heads = await Promise.all(Array.from({ length: 10 }, () => store.headPosition()));
    for (let i = 0; i < 10; i++) heads.push(await store.headPosition());
    expect(new Set(heads)).toEqual(new Set([s.log[2]!.position]));
    expect(s.calls.filter((c) => c.method === 'read' && c.kind === 'all')).toHaveLength(1);
    // Our own appends move it forward without another read.
    const r = await store.append('customer-c2', [registered('c2', 1)]);
    expect(await store.headPosition()).toBe(E.isRight(r) ? r.right.positions[0] : -1);
    expect(s.calls.filter((c) => c.method === 'read' && c.kind === 'all')).toHaveLength(1);
  });

  // Issue #22 item 8: the envelope is rebuilt from our own metadata keys only. OpenTelemetry-aware clients
  // and servers add $traceId / $spanId; they must not make a retry a different_content conflict.
  it('metadata keys that are not ours ($traceId, $spanId) do not change the envelope', async () => {
    const s = await node();
    writeEnvelope(s, 'customer-c1', registered('c1', 1), '', { $traceId: 'abc', $spanId: 'def', other: 1 });
    const store = open(s);
    const read = await store.readStream('customer-c1');
    expect(read).toEqual(E.right([expect.objectContaining({ event: registered('c1', 1) })]));
    const retry = await store.append('customer-c1', [registered('c1', 1)]);
    expect(retry).toEqual(E.right(expect.objectContaining({ duplicate: true })));
  });
});
