import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@crm-ledger/core';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import type { ResubscribeInfo } from './subscription.js';
import { FaultServer } from './testing/fault-server.js';
import { seed } from './testing/seed.js';

/** A port where nothing listens now (a server started and stopped on it). */
async function freePort(): Promise<number> {
  const s = await FaultServer.start();
  s.stop();
  return s.port;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Issue #22 item 1: a subscription never gives up. It retries forever with capped backoff, whatever failed
// (a plain Error from cluster discovery included), and says so through onResubscribe and its status.
describe('subscriptions retry forever (real client, fault server)', () => {
  const servers: FaultServer[] = [];
  let store: EventStoreDbEventStore | undefined;
  let controller = new AbortController();
  beforeEach(() => {
    controller = new AbortController();
  });
  afterEach(async () => {
    controller.abort();
    await store?.close();
    for (const s of servers.splice(0)) s.stop();
  });

  function consume(s: EventStoreDbEventStore, seen: StoredEvent[], signal: AbortSignal) {
    return (async () => {
      for await (const batch of s.subscribe({ signal })) seen.push(...batch);
    })();
  }

  it('a cluster discovery failure (a plain Error) is retried until a seed answers, then events flow', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const infos: ResubscribeInfo[] = [];
    store = openEventStoreDbStore({
      connectionString: `esdb://127.0.0.1:${p1},127.0.0.1:${p2}?tls=false&maxDiscoverAttempts=1&discoveryInterval=10`,
      resubscribe: { initialDelayMs: 5, maxDelayMs: 20 },
      onResubscribe: (info) => infos.push(info),
    });
    const seen: StoredEvent[] = [];
    const loop = consume(store, seen, controller.signal);
    let failed: unknown;
    loop.catch((e: unknown) => (failed = e));
    await until(() => infos.length >= 3 || failed !== undefined, 'three resubscriptions');
    expect(failed).toBeUndefined();
    expect(infos[0]!.reason).toMatch(/discover/i);
    expect(store.subscriptionStatus()).toMatchObject([
      { state: 'retrying', lastError: expect.stringMatching(/discover/i) as string },
    ]);
    const node = await FaultServer.start({ port: p2 });
    servers.push(node);
    seed(node, 2);
    await until(() => seen.length === 2, 'the events after the cluster came back');
    await until(() => store!.subscriptionStatus()[0]?.state === 'live', 'the live state');
    controller.abort();
    await loop;
  });

  it('an outage longer than ten retries does not end the subscription', async () => {
    const node = await FaultServer.start();
    servers.push(node);
    seed(node, 1);
    const infos: ResubscribeInfo[] = [];
    store = openEventStoreDbStore({
      connectionString: node.connectionString,
      resubscribe: { initialDelayMs: 2, maxDelayMs: 10 },
      onResubscribe: (info) => infos.push(info),
    });
    const seen: StoredEvent[] = [];
    const loop = consume(store, seen, controller.signal);
    let failed: unknown;
    loop.catch((e: unknown) => (failed = e));
    await until(() => seen.length === 1, 'the first event');
    node.stop();
    await until(() => infos.length >= 15 || failed !== undefined, 'fifteen resubscriptions');
    expect(failed).toBeUndefined();
    // Capped backoff: the delay stops growing at maxDelayMs.
    expect(Math.max(...infos.map((i) => i.delayMs))).toBe(10);
    await node.startAgain();
    seed(node, 1, 'c1', 2);
    await until(() => seen.length === 2, 'the event written after the outage');
    expect(seen.map((e) => e.revision)).toEqual([0, 1]);
    controller.abort();
    await loop;
  });

  it('aborting ends the loop promptly even while the client is still discovering the cluster', async () => {
    const node = await FaultServer.start();
    servers.push(node);
    node.faults.stallGossip = true; // each gossip waits for the client's 5 s gossip timeout
    store = openEventStoreDbStore({
      connectionString: `esdb://127.0.0.1:${node.port},127.0.0.1:${node.port}?tls=false`,
    });
    const abort = new AbortController();
    const loop = consume(store, [], abort.signal);
    await new Promise((r) => setTimeout(r, 200));
    const asked = Date.now();
    abort.abort();
    await loop;
    expect(Date.now() - asked).toBeLessThan(2_000); // on main: until discovery gave up, over 30 s
  });
});
