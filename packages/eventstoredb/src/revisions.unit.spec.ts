import { NO_STREAM } from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  concreteExpectedRevision,
  fromCurrentRevision,
  fromEsdbRevision,
  retriableAfterRace,
} from './revisions.js';

describe('revisions', () => {
  it('maps the current revision, bigint or the string no_stream', () => {
    expect(fromCurrentRevision(NO_STREAM)).toBe('no_stream');
    expect(fromCurrentRevision(41n)).toBe(41);
    expect(fromEsdbRevision(0n)).toBe(0);
    expect(() => fromEsdbRevision(-1n)).toThrow(RangeError);
  });

  it('always sends ESDB a concrete revision derived from the stream as read', () => {
    expect(concreteExpectedRevision('s', 'any', 'no_stream')).toEqual(E.right(NO_STREAM));
    expect(concreteExpectedRevision('s', 'any', 4)).toEqual(E.right(4n));
    expect(concreteExpectedRevision('s', 'no_stream', 'no_stream')).toEqual(E.right(NO_STREAM));
    expect(concreteExpectedRevision('s', 'stream_exists', 0)).toEqual(E.right(0n));
    expect(concreteExpectedRevision('s', 7, 7)).toEqual(E.right(7n));
  });

  it('fails an expectation the stream as read already contradicts', () => {
    const wrong = (expected: Parameters<typeof concreteExpectedRevision>[1], actual: number | 'no_stream') =>
      concreteExpectedRevision('customer-1', expected, actual);
    expect(wrong('no_stream', 2)).toEqual(
      E.left({ type: 'WrongExpectedRevision', streamName: 'customer-1', expected: 'no_stream', actual: 2 }),
    );
    expect(wrong('stream_exists', 'no_stream')).toMatchObject({
      _tag: 'Left',
      left: { actual: 'no_stream' },
    });
    expect(wrong(3, 4)).toMatchObject({ _tag: 'Left', left: { expected: 3, actual: 4 } });
    expect(wrong(0, 'no_stream')).toMatchObject({ _tag: 'Left', left: { expected: 0, actual: 'no_stream' } });
  });

  it('retries a lost race only when the caller did not ask for a precise revision', () => {
    expect(retriableAfterRace('any')).toBe(true);
    expect(retriableAfterRace('stream_exists')).toBe(true);
    expect(retriableAfterRace('no_stream')).toBe(false);
    expect(retriableAfterRace(3)).toBe(false);
  });
});
