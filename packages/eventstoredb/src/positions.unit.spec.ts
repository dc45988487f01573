import { START } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { isAfter, readFrom, toEsdbPosition, toGlobalPosition } from './positions.js';

describe('positions: ESDB {commit, prepare} <-> the port global position', () => {
  it('maps an implicitly committed event (commit = prepare) to its commit offset and back', () => {
    for (const p of [1n, 4_096n, 268_435_456n * 37n + 123n, BigInt(Number.MAX_SAFE_INTEGER)]) {
      const g = toGlobalPosition({ commit: p, prepare: p });
      expect(g).toBe(Number(p));
      expect(toEsdbPosition(g)).toEqual({ commit: p, prepare: p });
    }
  });

  it('keeps the log order: larger offsets map to larger numbers', () => {
    const offsets = [17n, 1_234n, 1_235n, 99_999_999_999n, 2n ** 52n];
    const mapped = offsets.map((p) => toGlobalPosition({ commit: p, prepare: p }));
    expect([...mapped].sort((a, b) => a - b)).toEqual(mapped);
    expect(isAfter({ commit: 1_235n, prepare: 1_235n }, { commit: 1_234n, prepare: 1_234n })).toBe(true);
    expect(isAfter({ commit: 10n, prepare: 5n }, { commit: 10n, prepare: 7n })).toBe(false);
  });

  it('refuses explicit-transaction positions (commit != prepare) instead of inventing an order', () => {
    expect(() => toGlobalPosition({ commit: 2_000n, prepare: 1_500n })).toThrow(/explicit transaction/);
  });

  it('refuses positions that do not fit a JS number exactly, and 0 (reserved for "before the first event")', () => {
    const tooBig = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    expect(() => toGlobalPosition({ commit: tooBig, prepare: tooBig })).toThrow(/outside/);
    expect(() => toGlobalPosition({ commit: 0n, prepare: 0n })).toThrow(/outside/);
    expect(() => toEsdbPosition(1.5)).toThrow(RangeError);
    expect(() => toEsdbPosition(-1)).toThrow(RangeError);
  });

  it('reads from the start for checkpoint 0, from the event position otherwise', () => {
    expect(readFrom(0)).toBe(START);
    expect(readFrom(5_000)).toEqual({ commit: 5_000n, prepare: 5_000n });
  });
});
