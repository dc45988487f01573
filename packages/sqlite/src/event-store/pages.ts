import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { ReadAllOptions, StoredEvent } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';

/** The columns of a read of the events table, in the order of `EventRow`. */
export const COLUMNS =
  'global_position, stream_name, revision, event_id, type, customer_id, recorded_at, body, hash';

export const MAX_POSITION = Number.MAX_SAFE_INTEGER;

export interface EventRow {
  global_position: number;
  stream_name: string;
  revision: number;
  event_id: string;
  type: string;
  customer_id: string;
  recorded_at: string;
  body: string;
  hash: string;
}

export function toStored(row: EventRow): StoredEvent {
  return {
    globalPosition: row.global_position,
    streamName: row.stream_name,
    revision: row.revision,
    recordedAt: row.recorded_at,
    event: JSON.parse(row.body) as RawEnvelope,
    hash: row.hash,
  };
}

/** One page of the global log: at most `size` events after `after`, up to `until`. */
export type Page = (after: number, until: number, size: number) => StoredEvent[];

/** Reads the global log forwards in pages (`readAll`, `readPartition`) while `isOpen()`. */
export async function* readPages(
  options: ReadAllOptions,
  page: Page,
  isOpen: () => boolean,
): AsyncIterable<readonly StoredEvent[]> {
  let after = options.after ?? 0;
  const until = options.until ?? MAX_POSITION;
  const size = options.batchSize ?? 1000;
  assertPosition(after, 'after');
  assertPosition(until, 'until');
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
  while (isOpen()) {
    const events = page(after, until, size);
    if (events.length === 0) return;
    after = events[events.length - 1]!.globalPosition;
    yield events;
    if (events.length < size) return;
    // Let timers and I/O run between pages: a long replay must not starve a server in the same process.
    await nextMacrotask();
  }
}

export function assertPosition(p: number, name: string): void {
  if (!Number.isSafeInteger(p) || p < 0)
    throw new RangeError(`${name} must be a non-negative integer position`);
}
