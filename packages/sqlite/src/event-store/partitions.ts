import type Database from 'better-sqlite3';
import type { StoredEvent } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import type { Page } from './pages.js';

/** At most this many partitions of the log (`readPartition`). */
export const MAX_PARTITIONS = 64;

/**
 * The partition key of an event's customer, in SQL: a mix of the customer id's length and its last three
 * characters, so ids that differ only at the end (c-000001, c-000002, ...) alternate between partitions. Only
 * balance depends on it, never correctness: every event of a customer has the same key. `customerPartition`
 * computes the same in JavaScript (for ids of ASCII characters).
 */
const PARTITION_SQL =
  '(7 * length(customer_id) + 31 * unicode(substr(customer_id, -1)) + 17 * coalesce(unicode(substr(customer_id, -2, 1)), 0) + coalesce(unicode(substr(customer_id, -3, 1)), 0))';

/** The partition (of `count`) that `readPartition` puts an ASCII customer id in. */
export function customerPartition(customerId: string, count: number): number {
  const at = (i: number): number =>
    customerId.length >= i ? customerId.charCodeAt(customerId.length - i) : 0;
  return (7 * customerId.length + 31 * at(1) + 17 * at(2) + at(3)) % count;
}

/** A row of `readPartition`: global_position, stream_name, revision, recorded_at, body, hash. */
type PartitionRow = [number, string, number, string, string, string];

/**
 * The page reader of one partition (`SqliteEventStore.readPartition`): rows as arrays of the columns a
 * StoredEvent needs (no object per row, no id/type/customer copies of what the body holds), since this is the
 * read of every thread of a parallel replay.
 */
export function partitionPage(
  reader: Database.Database,
  partition: { readonly index: number; readonly count: number },
): Page {
  const { index, count } = partition;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PARTITIONS)
    throw new RangeError(`partition count must be an integer from 1 to ${MAX_PARTITIONS}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new RangeError(`partition index must be an integer from 0 to ${count - 1}`);
  const stmt = reader
    .prepare<[number, number, number, number, number], PartitionRow>(
      `SELECT global_position, stream_name, revision, recorded_at, body, hash FROM events WHERE global_position > ? AND global_position <= ? AND ${PARTITION_SQL} % ? = ? ORDER BY global_position LIMIT ?`,
    )
    .raw(true);
  return (after, until, size) => {
    const rows = stmt.all(after, until, count, index, size);
    const events = new Array<StoredEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      events[i] = {
        globalPosition: r[0],
        streamName: r[1],
        revision: r[2],
        recordedAt: r[3],
        event: JSON.parse(r[4]) as RawEnvelope,
        hash: r[5],
      };
    }
    return events;
  };
}
