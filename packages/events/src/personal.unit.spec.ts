import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { validateEvent } from './parse.js';

const ENC = `enc:v1:k1a2b3c4d5e6f708:${'A'.repeat(60)}`;
const envelope = (type: string, schemaVersion: number, data: unknown) => ({
  eventId: '0b6f2d2e-6a4b-4f43-9b61-1f1a3e1d2c3b',
  type,
  schemaVersion,
  customerId: 'c-1',
  occurredAt: '2024-05-01T09:30:00Z',
  data,
});

describe('personal fields: plaintext or the encrypted form', () => {
  it.each([
    [
      'CustomerRegistered',
      1,
      { segment: 'B2C', acquisitionChannel: 'organic_search', name: ENC, email: ENC, phone: ENC },
    ],
    ['CustomerProfileUpdated', 1, { email: ENC }],
    [
      'TicketOpened',
      2,
      { ticketId: 't1', channel: 'email', category: 'billing', priority: 'high', subject: ENC },
    ],
    ['TicketOpened', 1, { ticketId: 't1', channel: 'email', category: 'billing', subject: ENC }],
    ['TicketReplied', 1, { ticketId: 't1', by: 'customer', body: ENC }],
    ['SurveyAnswered', 1, { kind: 'NPS', surveyId: 's1', score: 9, comment: ENC }],
    ['FeedbackGiven', 1, { channel: 'web', text: ENC }],
    ['OutreachMade', 1, { kind: 'check_in', by: 'csm-1', channel: 'email', note: ENC }],
  ])('%s v%i accepts enc:v1 in every personal field', (type, version, data) => {
    const r = validateEvent(envelope(type, version, data));
    expect(E.isRight(r) ? 'valid' : r.left.issues).toBe('valid');
  });

  it('a wrong plaintext keeps the plaintext schema message, not a generic union one', () => {
    const r = validateEvent(
      envelope('CustomerRegistered', 1, {
        segment: 'B2C',
        acquisitionChannel: 'organic_search',
        email: 'nope',
      }),
    );
    expect(E.isLeft(r) && r.left.issues).toEqual([
      expect.objectContaining({ path: ['data', 'email'], message: 'Invalid email address' }),
    ]);
  });

  it('an encrypted value is bounded and must be well formed', () => {
    for (const text of [
      `enc:v1:k1:${'A'.repeat(40_000)}`,
      `enc:v1::${'A'.repeat(4_000)}`,
      `enc:v2:k1:${'A'.repeat(4_000)}`,
    ]) {
      // longer than free text may be (4,000) and not a well-formed, bounded ciphertext either
      const r = validateEvent(envelope('FeedbackGiven', 1, { channel: 'web', text }));
      expect(E.isLeft(r)).toBe(true);
    }
  });
});
