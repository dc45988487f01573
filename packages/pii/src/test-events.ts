import { randomUUID } from 'node:crypto';
import type { RawEnvelope } from '@crm-ledger/events';

/** A distinctive person: every piece must be findable as bytes if it leaked anywhere. */
export const PERSON = {
  name: 'Philomena Quackenbush-Zyx',
  email: 'philomena.zyx@erasure-test.example',
  phone: '+44 20 7946 0958',
  text: 'Complaint from Philomena: the wobbleflange arrived broken',
} as const;

export const SECRETS: readonly string[] = [
  PERSON.name,
  PERSON.email,
  PERSON.phone,
  PERSON.text,
  'Philomena',
  'wobbleflange',
];

const base = (customerId: string, type: string, occurredAt: string) => ({
  eventId: randomUUID(),
  type,
  schemaVersion: 1,
  customerId,
  occurredAt,
  source: 'erasure-test',
});

/** Registration, a purchase, a survey with a comment, feedback with text, a ticket with a subject and a reply. */
export function personalHistory(customerId: string): RawEnvelope[] {
  return [
    {
      ...base(customerId, 'CustomerRegistered', '2024-01-02T10:00:00.000Z'),
      data: {
        segment: 'B2C',
        acquisitionChannel: 'referral',
        name: PERSON.name,
        email: PERSON.email,
        phone: PERSON.phone,
      },
    },
    {
      ...base(customerId, 'PurchaseMade', '2024-01-03T10:00:00.000Z'),
      data: { orderId: `o-${customerId}`, amount: { amountMinor: 12_345, currency: 'EUR' } },
    },
    {
      ...base(customerId, 'SurveyAnswered', '2024-01-04T10:00:00.000Z'),
      data: { kind: 'NPS', surveyId: 's-1', score: 3, comment: `${PERSON.text} (survey)` },
    },
    {
      ...base(customerId, 'FeedbackGiven', '2024-01-05T10:00:00.000Z'),
      data: { channel: 'email', sentiment: -0.8, text: PERSON.text },
    },
    {
      ...base(customerId, 'TicketOpened', '2024-01-06T10:00:00.000Z'),
      schemaVersion: 2,
      data: {
        ticketId: `t-${customerId}`,
        channel: 'email',
        category: 'delivery',
        priority: 'high',
        subject: `Broken wobbleflange for ${PERSON.name}`,
      },
    },
    {
      ...base(customerId, 'TicketReplied', '2024-01-06T12:00:00.000Z'),
      data: { ticketId: `t-${customerId}`, by: 'customer', body: `Signed, ${PERSON.name}, ${PERSON.phone}` },
    },
  ];
}

export function anErasure(customerId: string, occurredAt = '2024-02-01T10:00:00.000Z'): RawEnvelope {
  return { ...base(customerId, 'CustomerErased', occurredAt), data: { reason: 'customer_request' } };
}

/** Every secret found in `haystack` (empty when none leaked). */
export function leaks(haystack: string | Buffer): string[] {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  const utf8 = typeof haystack === 'string' ? haystack : haystack.toString('utf8');
  return SECRETS.filter((s) => text.includes(s) || utf8.includes(s));
}
