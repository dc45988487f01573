import { ErrorType, isCommandError, type CommandError } from '@eventstore/db-client';
import type { AppendError, ExpectedRevision, ReadError, StoreUnavailable } from '@crm-ledger/core';
import { fromCurrentRevision } from './revisions.js';

const unavailable = (message: string, cause: unknown): StoreUnavailable => ({
  type: 'StoreUnavailable',
  message,
  cause,
});

/** The vendor's error, converted to its typed CommandError when it is one (plain Errors pass through). */
function asCommandError(error: unknown): CommandError | undefined {
  return error instanceof Error && isCommandError(error) ? error : undefined;
}

/**
 * Translates whatever an ESDB append threw into the port's AppendError union.
 * `expected` is the caller's expectation (what the port reports back), not the concrete revision we sent.
 */
export function translateAppendError(
  error: unknown,
  streamName: string,
  expected: ExpectedRevision,
): AppendError {
  const e = asCommandError(error);
  if (e === undefined) return unavailable(`EventStoreDB append failed: ${describe(error)}`, error);
  switch (e.type) {
    case ErrorType.WRONG_EXPECTED_VERSION:
      return {
        type: 'WrongExpectedRevision',
        streamName,
        expected,
        actual: fromCurrentRevision(e.actualVersion),
      };
    case ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED:
      return {
        type: 'InvalidAppend',
        message: `the batch exceeds EventStoreDB's maximum append size of ${e.maxAppendSize} bytes: append fewer events at a time`,
      };
    case ErrorType.STREAM_DELETED:
      return { type: 'InvalidAppend', message: `stream ${streamName} was deleted in EventStoreDB` };
    case ErrorType.INVALID_ARGUMENT:
      return { type: 'InvalidAppend', message: `EventStoreDB rejected the append: ${e.message}` };
    default:
      return translateCommon(e);
  }
}

/** Translates whatever an ESDB read threw into the port's ReadError union. */
export function translateReadError(error: unknown): ReadError {
  const e = asCommandError(error);
  if (e === undefined) return unavailable(`EventStoreDB read failed: ${describe(error)}`, error);
  if (e.type === ErrorType.INVALID_ARGUMENT) {
    return { type: 'InvalidAppend', message: `EventStoreDB rejected the read: ${e.message}` };
  }
  return translateCommon(e);
}

function translateCommon(e: CommandError): StoreUnavailable {
  switch (e.type) {
    case ErrorType.DEADLINE_EXCEEDED:
      return unavailable(`EventStoreDB did not answer before the deadline: ${e.message}`, e);
    case ErrorType.UNAVAILABLE:
      return unavailable(`EventStoreDB is unavailable: ${e.message}`, e);
    case ErrorType.NOT_LEADER:
      return unavailable(
        `EventStoreDB node is not the leader (leader at ${e.leader.address}:${e.leader.port}): retry`,
        e,
      );
    case ErrorType.ACCESS_DENIED:
      return unavailable(`EventStoreDB denied access: check the credentials of the connection string`, e);
    default:
      return unavailable(`EventStoreDB error (${e.type}): ${e.message}`, e);
  }
}

/**
 * Whether a subscription that failed with this error should be re-established from its last position
 * (network trouble, leader change, server restart), rather than fail its consumer (bad credentials, a bug).
 */
export function isTransient(error: unknown): boolean {
  const e = asCommandError(error);
  if (e === undefined) return false;
  switch (e.type) {
    case ErrorType.UNAVAILABLE:
    case ErrorType.DEADLINE_EXCEEDED:
    case ErrorType.TIMEOUT:
    case ErrorType.NOT_LEADER:
    case ErrorType.CANCELLED:
    case ErrorType.UNKNOWN:
      return true;
    default:
      return false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
