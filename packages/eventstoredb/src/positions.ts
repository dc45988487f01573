import type { Position, ReadPosition } from '@eventstore/db-client';
import { START } from '@eventstore/db-client';
import type { GlobalPosition } from '@crm-ledger/core';

/**
 * EventStoreDB positions and the port's numeric global position.
 *
 * An ESDB position is `{ commit, prepare }`: byte offsets (bigint) of log records in the transaction file
 * (TF), the log every node writes sequentially in 256 MiB chunks. The port's `GlobalPosition` is a JS number.
 *
 * Mapping: `globalPosition = Number(commit)`, and back `{ commit: p, prepare: p }`. This is exact because:
 * - Every event this adapter writes goes through the gRPC append, an *implicit* transaction: each event is
 *   its own prepare record flagged `IsCommitted`, and the server reports it with
 *   `commit === prepare === the record's own log offset` (no separate commit record). So one number
 *   identifies one event, and distinct events have distinct numbers. Only the legacy TCP API's explicit
 *   transactions produce `commit !== prepare` (several events sharing one commit record); we refuse to
 *   map those rather than invent an order (`toGlobalPosition` throws), and they cannot appear in the
 *   `customer-` streams this adapter owns.
 * - Commit positions fit in a JS number: they are byte offsets, and `Number.MAX_SAFE_INTEGER` (2^53 - 1)
 *   bytes is 8 PiB of log ever written (scavenging does not reset offsets). We still check, and throw
 *   rather than round, if a position ever exceeds it.
 * - The order is the same: a larger offset was committed later (the TF is append-only and single-writer
 *   on the leader), so numeric comparison of global positions is the log order.
 * - Positions have large gaps (the next event is `record size` bytes further, plus any system records
 *   and other streams' events in between): consumers must never do arithmetic on them (the port says so).
 * - 0 keeps its port meaning "before the first event": offset 0 holds the TF's first system record
 *   (the epoch), never a user event, so no event of ours ever maps to 0.
 */
export function toGlobalPosition(position: Position): GlobalPosition {
  if (position.commit !== position.prepare) {
    throw new Error(
      `EventStoreDB position {commit: ${position.commit}, prepare: ${position.prepare}} belongs to an explicit ` +
        'transaction (legacy TCP API): it has no single global position in crm-ledger',
    );
  }
  if (position.commit <= 0n || position.commit > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`EventStoreDB commit position ${position.commit} is outside 1..2^53-1`);
  }
  return Number(position.commit);
}

/** The ESDB position of an event from its global position (inverse of `toGlobalPosition`). */
export function toEsdbPosition(position: GlobalPosition): Position {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`global position must be a non-negative safe integer, got ${position}`);
  }
  const p = BigInt(position);
  return { commit: p, prepare: p };
}

/**
 * Where to start reading or subscribing to `$all` to see the events after `after` (exclusive).
 * Subscriptions treat `fromPosition` as exclusive, reads of `$all` as inclusive: callers also drop every event
 * at or before `after`, which makes both correct.
 */
export function readFrom(after: GlobalPosition): ReadPosition {
  return after === 0 ? START : toEsdbPosition(after);
}

/** Whether an ESDB position lies strictly after another (commit first, then prepare, as the server orders). */
export function isAfter(a: Position, b: Position): boolean {
  return a.commit > b.commit || (a.commit === b.commit && a.prepare > b.prepare);
}
