import { NO_STREAM, type AppendExpectedRevision, type CurrentRevision } from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import {
  checkExpectedRevision,
  type ActualRevision,
  type ExpectedRevision,
  type StreamRevision,
  type WrongExpectedRevision,
} from '@crm-ledger/core';

export type { ActualRevision };

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
): E.Either<WrongExpectedRevision, AppendExpectedRevision> {
  return E.map((a: ActualRevision): AppendExpectedRevision => (a === 'no_stream' ? NO_STREAM : BigInt(a)))(
    checkExpectedRevision(streamName, expected, actual),
  );
}

/** Whether a WrongExpectedVersion from ESDB after our own read means "someone wrote meanwhile: read again". */
export function retriableAfterRace(expected: ExpectedRevision): boolean {
  return expected === 'any' || expected === 'stream_exists';
}
