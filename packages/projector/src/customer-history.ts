import type { EventStore, GlobalPosition, StoredEvent } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import * as E from 'fp-ts/lib/Either.js';

/**
 * The engine's `readCustomer` on an event store: one customer's stream up to a global position (inclusive).
 * A read failure throws: the batch fails whole and is retried, like any other store failure mid-batch.
 */
export function customerHistoryReader(
  store: Pick<EventStore, 'readStream'>,
): (customerId: string, until: GlobalPosition) => Promise<readonly StoredEvent[]> {
  return async (customerId, until) => {
    const read = await store.readStream(customerStream(customerId));
    if (E.isLeft(read)) throw new Error(`reading ${customerStream(customerId)}: ${read.left.message}`);
    return read.right.filter((s) => s.globalPosition <= until);
  };
}
