import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@crm-ledger/core';
import { CutInstant, describeCut, inCut, KnownAt } from './cut.js';

const stored = (position: number, occurredAt: string): StoredEvent =>
  ({ globalPosition: position, event: { occurredAt } }) as unknown as StoredEvent;

describe('the one parser of cuts', () => {
  it('reads an instant with Z or an offset as UTC, and a date as the end of that day (UTC)', () => {
    expect(CutInstant.parse('2025-06-30T00:00:00Z')).toBe('2025-06-30T00:00:00.000Z');
    expect(CutInstant.parse('2025-06-30T02:00:00+02:00')).toBe('2025-06-30T00:00:00.000Z');
    expect(CutInstant.parse('2025-06-30T20:00:00-05:00')).toBe('2025-07-01T01:00:00.000Z');
    expect(CutInstant.parse('2025-06-30')).toBe('2025-06-30T23:59:59.999Z');
  });

  it('refuses what is not an instant with a zone or a real date, saying what it takes', () => {
    for (const bad of ['2025-06-30T00:00:00', '30/06/2025', '2025-02-30', 'yesterday', '1200', ''])
      expect(CutInstant.safeParse(bad).success, bad).toBe(false);
    expect(CutInstant.safeParse('2025-06-30T00:00').error?.issues[0]?.message).toContain(
      'a date (2025-06-30: the end of that day, UTC)',
    );
  });

  it('reads "as known at" as a position or a time', () => {
    expect(KnownAt.parse('1200')).toEqual({ position: 1200 });
    expect(KnownAt.parse('2025-06-30')).toEqual({ recordedBy: '2025-06-30T23:59:59.999Z' });
    expect(KnownAt.safeParse('-1').success).toBe(false);
    expect(KnownAt.safeParse('1e3').success).toBe(false);
  });
});

describe('inCut: which events a cut selects', () => {
  const events = [
    stored(1, '2025-01-01T00:00:00Z'),
    stored(2, '2025-06-30T23:59:59.999Z'),
    stored(3, '2025-07-01T00:00:00.000Z'),
    // a late event: recorded after the others, occurred before them
    stored(4, '2024-12-31T12:00:00Z'),
  ];
  const pick = (cut: Parameters<typeof inCut>[0]) => events.filter(inCut(cut)).map((e) => e.globalPosition);

  it('as of a business time: what occurred by then, whenever recorded (the late event too)', () => {
    expect(pick({ asOf: CutInstant.parse('2025-06-30') })).toEqual([1, 2, 4]);
  });
  it('as known at a position: what was stored by then', () => {
    expect(pick({ position: 3 })).toEqual([1, 2, 3]);
  });
  it('both: what had occurred by T1 among what was stored by P', () => {
    expect(pick({ asOf: CutInstant.parse('2025-06-30'), position: 3 })).toEqual([1, 2]);
    expect(pick({})).toEqual([1, 2, 3, 4]);
  });
  it('describes itself in words', () => {
    expect(describeCut({ asOf: '2025-06-30T23:59:59.999Z', position: 3 })).toBe(
      'as of 2025-06-30T23:59:59.999Z, as known at position 3',
    );
    expect(describeCut({})).toBe('the whole log');
  });
});
