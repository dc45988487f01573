import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import { FaultServer } from './testing/fault-server.js';
import { registered } from './test-events.js';

const deployDoc = readFileSync(new URL('../../../docs/deploy.md', import.meta.url), 'utf8');

/** A port where nothing listens now. */
async function deadPort(): Promise<number> {
  const s = await FaultServer.start();
  s.stop();
  return s.port;
}

describe('the cluster connection (real client, fault servers)', () => {
  const servers: FaultServer[] = [];
  let store: EventStoreDbEventStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    for (const s of servers.splice(0)) s.stop();
  });

  // Issue #22 item 2: the URL docs/deploy.md gives for a cluster must still connect when node1 is down.
  it('the cluster URL of docs/deploy.md connects with its first node down', async () => {
    const documented = /(esdb(?:\+discover)?:\/\/[^\s`'"]*,[^\s`'"]*)/.exec(deployDoc)?.[1];
    expect(documented, 'docs/deploy.md gives a cluster connection string').toBeDefined();
    const [n2, n3] = [await FaultServer.start(), await FaultServer.start()];
    servers.push(n2, n3);
    const ports = [await deadPort(), n2.port, n3.port];
    // The documented string with its three hosts replaced by node1 (down), node2, node3, and without TLS.
    let i = 0;
    const local = documented!
      .replace(
        /\/\/([^/?]*)/,
        (_, hosts: string) =>
          '//' +
          hosts
            .split(',')
            .map(() => `127.0.0.1:${ports[i++]}`)
            .join(','),
      )
      .replace(/tls=true/, 'tls=false')
      .concat(documented!.includes('tls=') ? '' : documented!.includes('?') ? '&tls=false' : '?tls=false')
      .concat('&discoveryInterval=10');
    store = openEventStoreDbStore({ connectionString: local, deadlineMs: 3_000 });
    const appended = await store.append('customer-c1', [registered('c1')]);
    expect(E.isRight(appended)).toBe(true);
    expect(n2.log.length + n3.log.length).toBe(1);
  });

  it('esdb+discover:// with several hosts is refused with the seed-list form to write instead', () => {
    expect(() =>
      openEventStoreDbStore({ connectionString: 'esdb+discover://n1:2113,n2:2113,n3:2113?tls=true' }),
    ).toThrow(/gossip with the first one only.*esdb:\/\/n1:2113,n2:2113,n3:2113\?tls=true/);
    // One DNS name that resolves to every node is the other working form.
    expect(() =>
      openEventStoreDbStore({ connectionString: 'esdb+discover://cluster.example:2113' }),
    ).not.toThrow();
  });

  // Issue #22 item 4: reads that must see our own writes ask for the leader. A follower that has not yet
  // replicated the write answers "not leader" to them, and the adapter retries on the leader it names.
  it('appends and readStream read on the leader, never on a lagging follower', async () => {
    const leader = await FaultServer.start();
    const follower = await FaultServer.start();
    servers.push(leader, follower);
    follower.faults.follower = { leader }; // writes go to the leader; its own log stays empty (lagging)
    store = openEventStoreDbStore({ connectionString: follower.connectionString, deadlineMs: 3_000 });
    const first = await store.append('customer-c1', [registered('c1', 1)], { expectedRevision: 'no_stream' });
    expect(first).toEqual(E.right(expect.objectContaining({ nextExpectedRevision: 0 })));
    const second = await store.append('customer-c1', [registered('c1', 2)], { expectedRevision: 0 });
    expect(E.isRight(second) && second.right.nextExpectedRevision).toBe(1);
    const read = await store.readStream('customer-c1');
    expect(E.isRight(read) && read.right.map((e) => e.revision)).toEqual([0, 1]);
    expect(leader.log.map((r) => r.revision)).toEqual([0, 1]);
    const streamCalls = [...leader.calls, ...follower.calls].filter(
      (c) => (c.method === 'read' && c.kind === 'stream') || c.method === 'append',
    );
    expect(streamCalls.length).toBeGreaterThan(0);
    expect(streamCalls.every((c) => c.requiresLeader)).toBe(true);
  });
});
