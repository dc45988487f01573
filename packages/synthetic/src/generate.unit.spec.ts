import * as E from 'fp-ts/lib/Either.js';
import { EVENT_TYPES, SIGNAL_AREA_TYPES, validateEvent } from '@crm-ledger/events';
import { describe, expect, it } from 'vitest';
import { customerIdOf, generateCustomer, generateHistory } from './generate.js';
import { summarize } from './summary.js';

describe('generateHistory', () => {
  it('is deterministic: the same seed gives byte-identical output, another seed another one', () => {
    const run = (seed: number) => JSON.stringify([...generateHistory({ seed, customers: 300 })]);
    const a = run(42);
    expect(run(42)).toBe(a);
    expect(run(43)).not.toBe(a);
  });

  it('gives the i-th customer on its own exactly as in the full iteration', () => {
    const options = { seed: 5, customers: 50 };
    const all = [...generateHistory(options)];
    expect(generateCustomer(options, 17)).toEqual(all[16]);
    expect(all.map((c) => c.customerId).slice(0, 2)).toEqual([customerIdOf(1), 'c-000002']);
  });

  it('is lazy: the first customer of a huge history comes at once', () => {
    const first = generateHistory({ seed: 1, customers: 100_000_000 }).next();
    expect(first.done).toBe(false);
    expect(first.value?.customerId).toBe('c-000001');
  });

  describe('2,000 customers', () => {
    const options = { seed: 2024, customers: 2_000 };
    const history = [...generateHistory(options)];

    it('produces only events that pass validateEvent, with unique ids, for their customer', () => {
      const ids = new Set<string>();
      const failures: string[] = [];
      for (const c of history) {
        for (const e of c.events) {
          const result = validateEvent(e);
          if (E.isLeft(result)) failures.push(`${e.type}: ${JSON.stringify(result.left.issues)}`);
          expect(e.customerId).toBe(c.customerId);
          ids.add(e.eventId);
        }
      }
      expect(failures.slice(0, 5)).toEqual([]);
      expect(ids.size).toBe(history.reduce((n, c) => n + c.events.length, 0));
    });

    it('sorts each customer history by occurredAt, registration first, erasure last', () => {
      for (const c of history) {
        expect(c.events[0]?.type).toBe('CustomerRegistered');
        for (let i = 1; i < c.events.length; i++) {
          expect(c.events[i]!.occurredAt >= c.events[i - 1]!.occurredAt).toBe(true);
        }
        const erased = c.events.findIndex((e) => e.type === 'CustomerErased');
        if (erased >= 0) expect(erased).toBe(c.events.length - 1);
      }
    });

    /**
     * Not generated: the corrections area. `ExchangeRateRecorded` belongs to the reserved stream `fx-rates`, which
     * is not a customer history (no registration, not counted in `customers`), and `EventVoided` is an operator's
     * correction (`crm-ledger void`), not customer behaviour; both are covered by their own specs (voids: the
     * corrections e2e and void-parity specs; rates: the query API's money spec).
     */
    const NOT_GENERATED: readonly string[] = [
      'EventVoided',
      'ExchangeRateRecorded',
      // signals (issue #16) are derived by the signal engine from the history, never generated as behaviour
      ...SIGNAL_AREA_TYPES,
    ];

    it('covers every event type of the catalogue but the corrections, and some TicketOpened in schema version 1', () => {
      const summary = summarize(history);
      for (const type of EVENT_TYPES.filter((t) => !NOT_GENERATED.includes(t)))
        expect(summary.byType[type] ?? 0, type).toBeGreaterThan(0);
      for (const type of NOT_GENERATED) expect(summary.byType[type] ?? 0, type).toBe(0);
      const v1 = history
        .flatMap((c) => c.events)
        .filter((e) => e.type === 'TicketOpened' && e.schemaVersion === 1);
      expect(v1.length).toBeGreaterThan(0);
      expect(v1.length).toBeLessThan((summary.byType.TicketOpened ?? 0) * 0.1);
    });

    it('stays within ±10% of the target number of events and inside the time window', () => {
      const summary = summarize(history);
      expect(summary.customers).toBe(2_000);
      expect(summary.events).toBeGreaterThan(200_000 * 0.9);
      expect(summary.events).toBeLessThan(200_000 * 1.1);
      expect(summary.firstOccurredAt! >= '2023-01-01T00:00:00.000Z').toBe(true);
      expect(summary.lastOccurredAt! <= '2025-12-31T23:59:59.000Z').toBe(true);
    });

    it('mixes B2B (~30%) and B2C customers, and links CSAT answers to their tickets', () => {
      const segments = history.map((c) => (c.events[0]!.data as { segment: string }).segment);
      const b2b = segments.filter((s) => s === 'B2B').length / segments.length;
      expect(b2b).toBeGreaterThan(0.25);
      expect(b2b).toBeLessThan(0.35);
      for (const c of history.slice(0, 200)) {
        const tickets = new Set(
          c.events
            .filter((e) => e.type === 'TicketOpened')
            .map((e) => (e.data as { ticketId: string }).ticketId),
        );
        for (const e of c.events) {
          const d = e.data as { kind?: string; ticketId?: string };
          if (e.type === 'SurveyAnswered' && d.kind === 'CSAT') expect(tickets.has(d.ticketId!)).toBe(true);
        }
      }
    });
  });

  it('honours targetEvents, start and end', () => {
    const summary = summarize(
      generateHistory({
        seed: 9,
        customers: 500,
        targetEvents: 10_000,
        start: '2024-01-01T00:00:00Z',
        end: '2024-06-30T00:00:00Z',
      }),
    );
    expect(summary.events).toBeGreaterThan(9_000);
    expect(summary.events).toBeLessThan(11_000);
    expect(summary.firstOccurredAt! >= '2024-01-01').toBe(true);
    expect(summary.lastOccurredAt! <= '2024-06-30T00:00:00.000Z').toBe(true);
  });

  it('rejects nonsense options', () => {
    expect(() => generateHistory({ seed: 1, customers: -1 }).next()).toThrow(RangeError);
    expect(() => generateHistory({ seed: 1, customers: 1, start: 'nope' }).next()).toThrow(RangeError);
  });
});
