import type { EventStore, ReadModelStore, Row } from '@crm-ledger/core';
import { emptyRecord, customerStream, type RawEnvelope } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';

/**
 * Appends a synthetic history to a store interleaved in time order (as a live system would receive it):
 * all events sorted by occurredAt, consecutive events of one customer appended together.
 */
export async function appendInterleaved(
  store: EventStore,
  histories: Iterable<{ customerId: string; events: RawEnvelope[] }>,
): Promise<number> {
  const all: RawEnvelope[] = [];
  for (const h of histories) all.push(...h.events);
  all.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
  let i = 0;
  while (i < all.length) {
    const customerId = all[i]!.customerId;
    let j = i;
    while (j < all.length && all[j]!.customerId === customerId) j++;
    const r = await store.append(customerStream(customerId), all.slice(i, j));
    if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
    i = j;
  }
  return all.length;
}

/** Every row of every view table (state tables included), in primary-key order: for equality checks. */
export async function dumpViews(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out = emptyRecord<readonly Row[]>();
  for (const name of PROJECTION_NAMES) {
    for (const t of projections[name].spec.tables) {
      const order = t.primaryKey.join(', ');
      out[t.name] = await readModel.sql({
        sqlite: `SELECT * FROM ${t.name} ORDER BY ${order}`,
        postgres: `SELECT * FROM ${t.name} ORDER BY ${order}`,
      });
    }
  }
  return out;
}
