import type { EventStore, StoredEvent } from '@crm-ledger/core';
import * as E from 'fp-ts/lib/Either.js';

/**
 * The number of events in a stream, found with O(log n) one-event reads (`fromRevision`, `maxCount: 1`: an index
 * lookup each) instead of reading the stream: about 40 lookups for a million events.
 */
export async function streamLength(store: EventStore, stream: string): Promise<number> {
  const exists = async (revision: number): Promise<boolean> => {
    const r = await store.readStream(stream, { fromRevision: revision, maxCount: 1 });
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right.length > 0;
  };
  if (!(await exists(0))) return 0;
  let present = 0;
  let absent = 1;
  while (await exists(absent)) {
    present = absent;
    absent *= 2;
  }
  while (absent - present > 1) {
    const mid = Math.floor((present + absent) / 2);
    if (await exists(mid)) present = mid;
    else absent = mid;
  }
  return present + 1;
}

/**
 * The last `count` events of a stream (in stream order): what the live 360 needs for its timeline, read in time
 * independent of the stream's length (a customer with a million events costs what one with a hundred does).
 */
export async function streamTail(
  store: EventStore,
  stream: string,
  count: number,
): Promise<readonly StoredEvent[]> {
  const length = await streamLength(store, stream);
  if (length === 0 || count <= 0) return [];
  const r = await store.readStream(stream, { fromRevision: Math.max(0, length - count), maxCount: count });
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
}
