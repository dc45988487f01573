import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { parseEvent, upcast, validateEvent } from './parse.js';

const base = {
  eventId: '7f1c2a4e-5b6d-4e8f-9a0b-1c2d3e4f5a6b',
  customerId: 'cust-1',
  occurredAt: '2024-03-01T10:00:00Z',
};

describe('event catalogue', () => {
  it('upcasts a version 1 TicketOpened (no priority) to version 2 with normal priority', () => {
    const v1 = {
      ...base,
      type: 'TicketOpened',
      schemaVersion: 1,
      data: { ticketId: 't-1', channel: 'email', category: 'billing' },
    };
    const stored = validateEvent(v1);
    expect(E.isRight(stored) && stored.right.schemaVersion).toBe(1);
    const event = parseEvent(v1);
    expect(E.isRight(event)).toBe(true);
    if (E.isRight(event) && event.right.type === 'TicketOpened') {
      expect(event.right.schemaVersion).toBe(2);
      expect(event.right.data.priority).toBe('normal');
    }
  });

  it('rejects a version 1 TicketOpened that carries a priority (strict objects)', () => {
    const v1 = {
      ...base,
      type: 'TicketOpened',
      schemaVersion: 1,
      data: { ticketId: 't-1', channel: 'email', category: 'billing', priority: 'high' },
    };
    const result = validateEvent(v1);
    expect(E.isLeft(result) && result.left.issues[0]?.path).toEqual(['data']);
  });

  it('names the path of every problem in the data', () => {
    const bad = {
      ...base,
      type: 'SurveyAnswered',
      schemaVersion: 1,
      data: { kind: 'NPS', score: 11, surveyId: 's1' },
    };
    const result = validateEvent(bad);
    expect(E.isLeft(result)).toBe(true);
    if (E.isLeft(result)) expect(result.left.issues.map((i) => i.path.join('.'))).toContain('data.score');
  });

  it('accepts an instant with an offset and stores it in UTC; keeps a UTC instant as given', () => {
    const withOffset = validateEvent({
      ...base,
      occurredAt: '2024-05-01T11:30:00+02:00',
      type: 'FeatureAdopted',
      schemaVersion: 1,
      data: { feature: 'x' },
    });
    expect(E.isRight(withOffset) && withOffset.right.occurredAt).toBe('2024-05-01T09:30:00.000Z');
    const behind = validateEvent({
      ...base,
      occurredAt: '2024-05-01T23:30:00-05:30',
      type: 'FeatureAdopted',
      schemaVersion: 1,
      data: { feature: 'x' },
    });
    expect(E.isRight(behind) && behind.right.occurredAt).toBe('2024-05-02T05:00:00.000Z');
    const utc = validateEvent({ ...base, type: 'FeatureAdopted', schemaVersion: 1, data: { feature: 'x' } });
    expect(E.isRight(utc) && utc.right.occurredAt).toBe('2024-03-01T10:00:00Z');
  });

  it('rejects unknown types, unknown versions and unknown envelope fields; times without a zone', () => {
    const cases = [
      { ...base, type: 'Nope', schemaVersion: 1, data: {} },
      { ...base, type: 'FeatureAdopted', schemaVersion: 9, data: { feature: 'x' } },
      { ...base, type: 'FeatureAdopted', schemaVersion: 1, data: { feature: 'x' }, extra: true },
      { ...base, eventId: 'not-a-uuid', type: 'FeatureAdopted', schemaVersion: 1, data: { feature: 'x' } },
      {
        ...base,
        occurredAt: '2024-03-01T10:00:00',
        type: 'FeatureAdopted',
        schemaVersion: 1,
        data: { feature: 'x' },
      },
      {
        ...base,
        occurredAt: '2024-03-01',
        type: 'FeatureAdopted',
        schemaVersion: 1,
        data: { feature: 'x' },
      },
      {
        ...base,
        type: 'PurchaseMade',
        schemaVersion: 1,
        data: { orderId: 'o1', amount: { amountMinor: 1.5, currency: 'USD' } },
      },
      {
        ...base,
        type: 'PurchaseMade',
        schemaVersion: 1,
        data: { orderId: 'o1', amount: { amountMinor: 100, currency: 'XXX' } },
      },
    ];
    for (const c of cases) expect(E.isLeft(validateEvent(c)), JSON.stringify(c)).toBe(true);
  });

  it('returns undefined from upcast for a type it does not know, so projections can count and skip it', () => {
    expect(upcast({ ...base, type: 'Gone', schemaVersion: 1, data: {} })).toBeUndefined();
  });
});

describe('validateEvent refuses text that cannot be stored as sent (regressions from the hostile-input properties)', () => {
  const feedback = (text: string) => ({
    ...base,
    type: 'FeedbackGiven',
    schemaVersion: 1,
    data: { channel: 'email', text },
  });

  it('a lone surrogate (no UTF-8 form) or a NUL, named by path', () => {
    for (const [text, message] of [
      ['ok \ud800', 'contains a lone surrogate (not valid Unicode text)'],
      ['\udc00 ok', 'contains a lone surrogate (not valid Unicode text)'],
      ['a\u0000b', 'contains a NUL character'],
    ] as const) {
      const r = validateEvent(feedback(text));
      expect(E.isLeft(r) && r.left.issues).toEqual([
        { path: ['data', 'text'], code: 'invalid_unicode', message },
      ]);
    }
  });

  it('keeps well-formed text: 4-byte emoji, right-to-left marks, combining accents', () => {
    for (const text of ['\ud83d\ude00'.repeat(2000), '\u202eevil\u202c \u0627\u0644\u0639', 'e\u0301\u0301'])
      expect(E.isRight(validateEvent(feedback(text)))).toBe(true);
  });
});
