import { ErrorType, isCommandError, type CommandError } from '@eventstore/db-client';
import {
  invalidAppend,
  storeUnavailable as unavailable,
  type AppendError,
  type ExpectedRevision,
  type ReadError,
  type StoreUnavailable,
} from '@crm-ledger/core';
import { fromCurrentRevision } from './revisions.js';

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
      return invalidAppend(
        `the batch exceeds EventStoreDB's maximum append size of ${e.maxAppendSize} bytes: append fewer events at a time`,
      );
    case ErrorType.STREAM_DELETED:
      return invalidAppend(`stream ${streamName} was deleted in EventStoreDB`);
    case ErrorType.INVALID_ARGUMENT:
      return invalidAppend(`EventStoreDB rejected the append: ${e.message}`);
    default:
      // The server's BadRequest / InvalidArgument (gRPC status 3) has no exception header the client knows:
      // it arrives as an UnknownError. It is a refusal of this append, not an outage: retrying cannot help.
      if (isInvalidArgument(e)) {
        return invalidAppend(`EventStoreDB rejected the append: ${e.message}`);
      }
      return translateCommon(e);
  }
}

/** gRPC status 3 (INVALID_ARGUMENT), or a batch-append status whose message says BadRequest / append size. */
function isInvalidArgument(e: CommandError): boolean {
  const code = (e as { code?: unknown }).code;
  return code === GRPC_INVALID_ARGUMENT || /bad ?request|maximum append size/i.test(e.message);
}

const GRPC_INVALID_ARGUMENT = 3;

/** Whether the node answered "not leader": the client reconnects to the leader for the next call. */
export function isNotLeader(error: unknown): boolean {
  const e = asCommandError(error);
  return e?.type === ErrorType.NOT_LEADER;
}

/** Translates whatever an ESDB read threw into the port's ReadError union. */
export function translateReadError(error: unknown): ReadError {
  const e = asCommandError(error);
  if (e === undefined) return unavailable(`EventStoreDB read failed: ${describe(error)}`, error);
  if (e.type === ErrorType.INVALID_ARGUMENT || (e.type === ErrorType.UNKNOWN && isInvalidArgument(e))) {
    return invalidAppend(`EventStoreDB rejected the read: ${e.message}`);
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
