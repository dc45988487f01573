import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@crm-ledger/core';
import { openEventStoreDbStore, type EventStoreDbEventStore } from './eventstoredb-event-store.js';
import type { ForeignRecord } from './subscription.js';
import { FaultServer } from './testing/fault-server.js';
import { seed } from './testing/seed.js';
import { registered } from './test-events.js';

// Issue #22 item 5: a record in a customer-* stream that is not a crm-ledger event (a tombstone, a write
// from the UI or another application) is reported and skipped: reads, subscriptions and appends to the
// stream go on; nobody stops.
describe('records that are not ours in the ledger streams (real client, fault server)', () => {
  let server: FaultServer | undefined;
  let store: EventStoreDbEventStore | undefined;
  afterEach(async () => {
    await store?.close();
    server?.stop();
  });

  async function withForeignRecords(): Promise<{ foreign: ForeignRecord[] }> {
    server = await FaultServer.start();
    seed(server, 2, 'c1');
    server.write('customer-c1', { type: 'NoteAdded', data: { text: 'from the UI' } }); // no metadata
    server.write('customer-c1', {
      type: 'Binary',
      data: new Uint8Array([1, 2]),
      contentType: 'application/octet-stream',
    });
    seed(server, 1, 'c2');
    server.tombstone('customer-c2');
    seed(server, 1, 'c3');
    const foreign: ForeignRecord[] = [];
    store = openEventStoreDbStore({
      connectionString: server.connectionString,
      deadlineMs: 3_000,
      onForeignRecord: (r) => foreign.push(r),
    });
    return { foreign };
  }

  it('readAll delivers our events and reports the others', async () => {
    const { foreign } = await withForeignRecords();
    const seen: StoredEvent[] = [];
    for await (const page of store!.readAll()) seen.push(...page);
    expect(seen.map((e) => `${e.streamName}@${e.revision}`)).toEqual([
      'customer-c1@0',
      'customer-c1@1',
      'customer-c2@0',
      'customer-c3@0',
    ]);
    expect(foreign.map((f) => [f.streamName, f.type])).toEqual([
      ['customer-c1', 'NoteAdded'],
      ['customer-c1', 'Binary'],
      ['customer-c2', '$streamDeleted'],
    ]);
  });

  it('a subscription skips them, counts them in its status, and catches up', async () => {
    await withForeignRecords();
    const controller = new AbortController();
    const seen: StoredEvent[] = [];
    let skipped = -1;
    for await (const page of store!.subscribe({
      signal: controller.signal,
      onCaughtUp: () => {
        skipped = store!.subscriptionStatus()[0]!.foreignSkipped;
        controller.abort();
      },
    })) {
      seen.push(...page);
    }
    expect(seen).toHaveLength(4);
    expect(skipped).toBe(3);
  });

  it('appends to a stream holding foreign records go on after them; the stream reads without them', async () => {
    await withForeignRecords();
    const r = await store!.append('customer-c1', [registered('c1', 3)], { expectedRevision: 3 });
    expect(r).toEqual(E.right(expect.objectContaining({ nextExpectedRevision: 4, duplicate: false })));
    const read = await store!.readStream('customer-c1');
    expect(E.isRight(read) && read.right.map((e) => e.revision)).toEqual([0, 1, 4]);
    // The chain skips the foreign records: our third event links to our second.
    const [, second, third] = E.isRight(read) ? read.right : [];
    expect(third!.hash).not.toBe('');
    expect(third!.hash).not.toBe(second!.hash);
  });

  it('a tombstoned (hard-deleted) stream reads as empty and refuses appends with a clear InvalidAppend', async () => {
    await withForeignRecords();
    expect(await store!.readStream('customer-c2')).toEqual(E.right([]));
    const r = await store!.append('customer-c2', [registered('c2', 2)]);
    expect(r).toEqual(
      E.left(
        expect.objectContaining({
          type: 'InvalidAppend',
          message: expect.stringMatching(/deleted/) as string,
        }),
      ),
    );
  });
});
