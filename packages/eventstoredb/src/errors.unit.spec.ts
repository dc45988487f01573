import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  MaxAppendSizeExceededError,
  StreamDeletedError,
  WrongExpectedVersionError,
  convertToCommandError,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { translateAppendError, translateReadError } from './errors.js';

/** A gRPC failure as @grpc/grpc-js hands it to the client, converted the way the client converts it. */
function grpcFailure(code: status, details: string, meta: Record<string, string> = {}): Error {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(meta)) metadata.set(k, v);
  const error: ServiceError = Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata,
  });
  return convertToCommandError(error);
}

describe('vendor errors -> the port error union', () => {
  it('WrongExpectedVersion from the server with no actual-version means the stream does not exist', () => {
    const e = grpcFailure(status.FAILED_PRECONDITION, 'WrongExpectedVersion', {
      exception: 'wrong-expected-version',
      'stream-name': 'customer-1',
      'expected-version': '3',
    });
    expect(e).toBeInstanceOf(WrongExpectedVersionError);
    expect(translateAppendError(e, 'customer-1', 3)).toEqual({
      type: 'WrongExpectedRevision',
      streamName: 'customer-1',
      expected: 3,
      actual: 'no_stream',
    });
  });

  it('WrongExpectedVersion with an actual version carries it as a number', () => {
    const fromServer = grpcFailure(status.FAILED_PRECONDITION, 'WrongExpectedVersion', {
      exception: 'wrong-expected-version',
      'stream-name': 'customer-1',
      'expected-version': '3',
      'actual-version': '9',
    });
    expect(translateAppendError(fromServer, 'customer-1', 'no_stream')).toMatchObject({
      actual: 9,
      expected: 'no_stream',
    });
    const batchAppend = new WrongExpectedVersionError(undefined, {
      streamName: 'customer-2',
      expected: 1n,
      current: 5n,
    });
    expect(translateAppendError(batchAppend, 'customer-2', 1)).toEqual({
      type: 'WrongExpectedRevision',
      streamName: 'customer-2',
      expected: 1,
      actual: 5,
    });
    const noStream = new WrongExpectedVersionError(undefined, {
      streamName: 'customer-2',
      expected: 1n,
      current: 'no_stream',
    });
    expect(translateAppendError(noStream, 'customer-2', 1)).toMatchObject({ actual: 'no_stream' });
  });

  it('an append over the maximum size is an InvalidAppend that says what to do', () => {
    const e = new MaxAppendSizeExceededError(undefined, 1_048_576);
    expect(translateAppendError(e, 'customer-1', 'any')).toEqual({
      type: 'InvalidAppend',
      message: expect.stringMatching(/1048576 bytes: append fewer events/) as string,
    });
    expect(
      translateAppendError(StreamDeletedError.fromStreamName('customer-1'), 'customer-1', 'any'),
    ).toMatchObject({
      type: 'InvalidAppend',
    });
  });

  it('deadline, unavailable and not-leader are StoreUnavailable, and transient', () => {
    const deadline = grpcFailure(status.DEADLINE_EXCEEDED, 'Deadline exceeded');
    const down = grpcFailure(status.UNAVAILABLE, 'No connection established');
    const follower = grpcFailure(status.NOT_FOUND, 'Leader info available', {
      exception: 'not-leader',
      'leader-endpoint-host': '10.0.0.2',
      'leader-endpoint-port': '2113',
    });
    expect(translateAppendError(deadline, 's', 'any')).toMatchObject({
      type: 'StoreUnavailable',
      message: expect.stringMatching(/deadline/) as string,
    });
    expect(translateReadError(down)).toMatchObject({
      type: 'StoreUnavailable',
      message: expect.stringMatching(/unavailable/) as string,
    });
    expect(translateReadError(follower)).toMatchObject({
      type: 'StoreUnavailable',
      message: expect.stringMatching(/10\.0\.0\.2:2113/) as string,
    });
  });

  it('access denied is unavailable, with a message naming the credentials', () => {
    const denied = grpcFailure(status.PERMISSION_DENIED, 'Access denied', { exception: 'access-denied' });
    expect(translateReadError(denied)).toMatchObject({
      type: 'StoreUnavailable',
      message: expect.stringMatching(/credentials/) as string,
    });
  });

  it('anything else (not a vendor error) is StoreUnavailable with the cause kept', () => {
    const boom = new TypeError('boom');
    expect(translateAppendError(boom, 's', 'any')).toEqual({
      type: 'StoreUnavailable',
      message: 'EventStoreDB append failed: boom',
      cause: boom,
    });
  });

  it('a BadRequest (gRPC INVALID_ARGUMENT without an exception header) is a refusal, not an outage', () => {
    const bad = grpcFailure(status.INVALID_ARGUMENT, 'Bad request');
    expect(translateAppendError(bad, 's', 'any')).toMatchObject({ type: 'InvalidAppend' });
    expect(translateReadError(bad)).toMatchObject({ type: 'InvalidAppend' });
  });
});
