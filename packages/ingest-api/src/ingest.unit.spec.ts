import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '@crm-ledger/events';
import { groupByCustomer, outcomeOfError, placements, validateItems } from './ingest.js';

const ev = (i: number, customerId: string): RawEnvelope => ({
  eventId: `00000000-0000-4000-8000-00000000000${i}`,
  type: 'FeatureAdopted',
  schemaVersion: 1,
  customerId,
  occurredAt: '2024-01-01T00:00:00Z',
  data: { feature: 'reports' },
});

describe('validateItems', () => {
  it('keeps valid items with their index and names the path of each problem', () => {
    const { valid, invalid } = validateItems([
      ev(1, 'a'),
      { ...ev(2, 'b'), data: { feature: 'Not A Slug' } },
      42,
    ]);
    expect(valid.map((v) => v.index)).toEqual([0]);
    expect(invalid.map((i) => i.index)).toEqual([1, 2]);
    expect(invalid[0]?.issues[0]?.path).toEqual(['events', 1, 'data', 'feature']);
    expect(invalid[1]?.issues[0]?.path).toEqual(['events', 2]);
  });
});

describe('groupByCustomer', () => {
  it('keeps request order within a customer and first-seen order of customers', () => {
    const items = [ev(1, 'b'), ev(2, 'a'), ev(3, 'b')].map((event, index) => ({ index, event }));
    const groups = groupByCustomer(items);
    expect([...groups.keys()]).toEqual(['b', 'a']);
    expect(groups.get('b')?.map((x) => x.index)).toEqual([0, 2]);
  });
});

describe('placements', () => {
  it('derives revisions of freshly written events, not of duplicates', () => {
    const events = [ev(1, 'a'), ev(2, 'a')];
    const written = {
      streamName: 'customer-a',
      nextExpectedRevision: 4,
      positions: [10, 11],
      duplicate: false,
    };
    expect(placements(events, written)).toEqual([
      { eventId: events[0]!.eventId, position: 10, revision: 3 },
      { eventId: events[1]!.eventId, position: 11, revision: 4 },
    ]);
    expect(placements(events, { ...written, duplicate: true })).toEqual([
      { eventId: events[0]!.eventId, position: 10 },
      { eventId: events[1]!.eventId, position: 11 },
    ]);
  });
});

describe('outcomeOfError', () => {
  it('maps every store error to an outcome', () => {
    expect(
      outcomeOfError({ type: 'WrongExpectedRevision', streamName: 's', expected: 1, actual: 'no_stream' })
        .status,
    ).toBe('conflict');
    expect(
      outcomeOfError({ type: 'IdempotencyConflict', streamName: 's', eventId: 'e', reason: 'partial_batch' })
        .status,
    ).toBe('conflict');
    expect(outcomeOfError({ type: 'InvalidAppend', message: 'm' }).status).toBe('invalid');
    expect(outcomeOfError({ type: 'StoreUnavailable', message: 'm' }).status).toBe('unavailable');
  });
});
