import type { RawEnvelope } from '@crm-ledger/events';
import { describe, expect, it } from 'vitest';
import { aCustomer, anEvent, leftOf, readEverything, someEvents } from '../fixtures.js';
import type { Harness } from '../harness.js';

export function atomicityAndBadInputCases(h: Harness): void {
  describe('atomicity and bad input', () => {
    it('an invalid event in the middle of a batch fails the whole batch with its index', async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 1));
      const before = await readEverything(h.store);
      const batch = someEvents(customerId, 5);
      batch[2] = { ...batch[2]!, data: { feature: 'Not A Slug!' } };
      const error = leftOf(await h.store.append(stream, batch));
      expect(error).toMatchObject({ type: 'InvalidAppend', index: 2 });
      expect((error as { issues?: unknown[] }).issues?.length ?? 0).toBeGreaterThan(0);
      await h.expectUnchanged(before);
    });

    it('rejects an empty batch and bad stream names with InvalidAppend', async () => {
      const { customerId, stream } = aCustomer();
      expect(leftOf(await h.store.append(stream, [])).type).toBe('InvalidAppend');
      expect(leftOf(await h.store.append('', [anEvent(customerId)])).type).toBe('InvalidAppend');
      expect(leftOf(await h.store.append(undefined as unknown as string, [anEvent(customerId)])).type).toBe(
        'InvalidAppend',
      );
      expect(leftOf(await h.store.append(stream, undefined as unknown as RawEnvelope[])).type).toBe(
        'InvalidAppend',
      );
      await h.expectUnchanged([]);
    });

    it('rejects invalid envelopes and data with InvalidAppend and the index', async () => {
      const { customerId, stream } = aCustomer();
      const good = anEvent(customerId);
      const bad: unknown[] = [
        { ...good, eventId: 'not-a-uuid' },
        { ...good, unexpected: true },
        { ...good, customerId: undefined },
        { ...good, occurredAt: 'yesterday' },
        { ...good, type: 'NoSuchEvent' },
        { ...good, schemaVersion: 7 },
        { ...good, type: 'SurveyAnswered', data: { kind: 'NPS', score: 11, surveyId: 's-1' } },
        null,
        'a string',
      ];
      for (const b of bad) {
        const error = leftOf(await h.store.append(stream, [anEvent(customerId), b as RawEnvelope]));
        expect(error, JSON.stringify(b)).toMatchObject({ type: 'InvalidAppend', index: 1 });
      }
      await h.expectUnchanged([]);
    });

    it('rejects data that JSON cannot represent with InvalidAppend', async () => {
      const { customerId, stream } = aCustomer();
      const cyclic: Record<string, unknown> = { feature: 'x' };
      cyclic.self = cyclic;
      const cases: unknown[] = [
        { ...anEvent(customerId), data: { feature: 'x', n: 10n } },
        { ...anEvent(customerId), data: cyclic },
        { ...anEvent(customerId), data: { feature: 'x', f: () => 1 } },
        { ...anEvent(customerId), type: 'FeedbackGiven', data: { channel: 'web', sentiment: Number.NaN } },
      ];
      for (const c of cases) {
        const error = leftOf(await h.store.append(stream, [c as RawEnvelope]));
        expect(error.type).toBe('InvalidAppend');
      }
      await h.expectUnchanged([]);
    });

    it('rejects a malformed expected revision with InvalidAppend', async () => {
      const { customerId, stream } = aCustomer();
      for (const expectedRevision of [-1, 1.5, Number.NaN, 'latest']) {
        const error = leftOf(
          await h.store.append(stream, [anEvent(customerId)], {
            expectedRevision: expectedRevision as number,
          }),
        );
        expect(error.type, String(expectedRevision)).toBe('InvalidAppend');
      }
      await h.expectUnchanged([]);
    });

    it('rejects bad readStream arguments with a typed error', async () => {
      expect(leftOf(await h.store.readStream('')).type).toBe('InvalidAppend');
      expect(leftOf(await h.store.readStream(aCustomer().stream, { fromRevision: -1 })).type).toBe(
        'InvalidAppend',
      );
      expect(leftOf(await h.store.readStream(aCustomer().stream, { maxCount: -5 })).type).toBe(
        'InvalidAppend',
      );
    });
  });
}
