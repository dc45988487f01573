import { NO_STREAM, type AppendExpectedRevision, type CurrentRevision } from '@eventstore/db-client';
import type { ExpectedRevision, StreamRevision, WrongExpectedRevision } from '@crm-ledger/core';

/** The stream's actual state as the port reports it: the last revision, or 'no_stream'. */
export type ActualRevision = StreamRevision | 'no_stream';

/** ESDB revisions are bigint; a stream would need 2^53 events before this loses precision. */
export function fromEsdbRevision(revision: bigint): StreamRevision {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`EventStoreDB revision ${revision} is outside 0..2^53-1`);
  }
  return Number(revision);
}

/** `WrongExpectedVersionError.actualVersion` is a bigint or the string 'no_stream': both map here. */
export function fromCurrentRevision(current: CurrentRevision): ActualRevision {
  return current === NO_STREAM ? 'no_stream' : fromEsdbRevision(current);
}

/**
 * Checks the caller's expectation against the stream as just read, and picks the *concrete* expected
 * revision sent to ESDB (never `ANY`/`STREAM_EXISTS`): ESDB guarantees idempotency by event id only with a
 * concrete revision, and a concrete revision also makes a concurrent writer between our read and our
 * append visible as a WrongExpectedVersionError (which the adapter retries when the caller said 'any'
 * or 'stream_exists').
 * Returns the port's WrongExpectedRevision when the expectation already fails against the read.
 */
export function concreteExpectedRevision(
  streamName: string,
  expected: ExpectedRevision,
  actual: ActualRevision,
): { ok: true; revision: AppendExpectedRevision } | { ok: false; error: WrongExpectedRevision } {
  const concrete: AppendExpectedRevision = actual === 'no_stream' ? NO_STREAM : BigInt(actual);
  const fails =
    (expected === 'no_stream' && actual !== 'no_stream') ||
    (expected === 'stream_exists' && actual === 'no_stream') ||
    (typeof expected === 'number' && expected !== actual);
  return fails
    ? { ok: false, error: { type: 'WrongExpectedRevision', streamName, expected, actual } }
    : { ok: true, revision: concrete };
}

/** Whether a WrongExpectedVersion from ESDB after our own read means "someone wrote meanwhile: read again". */
export function retriableAfterRace(expected: ExpectedRevision): boolean {
  return expected === 'any' || expected === 'stream_exists';
}
