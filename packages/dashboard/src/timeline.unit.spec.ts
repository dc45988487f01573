import { describe, expect, it } from 'vitest';

interface Link {
  text: string;
  href: string;
}
interface TimelineJs {
  describeEvent(entry: { type: string; data: unknown }, customerId: string): (string | Link)[];
  sentenceText(parts: (string | Link)[]): string;
}
// The dashboard's browser module (plain JS, served as is): the sentences need no DOM.
const t = (await import(new URL('../public/timeline.js', import.meta.url).href)) as TimelineJs;
const say = (type: string, data: unknown) => t.sentenceText(t.describeEvent({ type, data }, 'c-1'));

describe('the 360 timeline in words', () => {
  it('writes one sentence per event type, with links for tickets and the customer', () => {
    const parts = t.describeEvent(
      {
        type: 'TicketOpened',
        data: { ticketId: 'T-1', channel: 'email', category: 'login_issue', priority: 'high' },
      },
      'c-1',
    );
    expect(t.sentenceText(parts)).toBe('Ticket T-1 opened on email about login issue (priority high)');
    expect(parts).toContainEqual({ text: 'T-1', href: '#ticket-T-1' });
    const registered = t.describeEvent(
      { type: 'CustomerRegistered', data: { segment: 'B2B', acquisitionChannel: 'paid_search' } },
      'c-1',
    );
    expect(t.sentenceText(registered)).toBe('Customer c-1 registered (B2B, acquired via paid search)');
    expect(registered).toContainEqual({ text: 'c-1', href: 'customer.html?id=c-1' });
    expect(say('PurchaseMade', { orderId: 'o-1', amount: { amountMinor: 123_456, currency: 'JPY' } })).toBe(
      'Order o-1 paid: 123,456 JPY',
    );
    expect(
      say('SubscriptionCancelled', {
        subscriptionId: 's-1',
        reason: 'switched_competitor',
        effectiveDate: '2025-01-31',
      }),
    ).toBe('Subscription s-1 cancelled (switched competitor), effective 2025-01-31');
    expect(say('SurveyAnswered', { kind: 'NPS', score: 9, surveyId: 'x', channel: 'web' })).toBe(
      'Answered an NPS survey on web: 9 of 10',
    );
  });

  it('never shows personal fields or raw JSON: a profile update names the fields, not their values', () => {
    expect(say('CustomerProfileUpdated', { email: 'ann@example.com', segment: 'B2C' })).toBe(
      'Profile updated: segment now B2C; email changed',
    );
    expect(say('EventVoided', { eventId: 'e', reason: 'typed the wrong name, Ann Smith' })).not.toContain(
      'Ann',
    );
  });

  it('falls back to the type name for an unknown type or data it cannot read', () => {
    expect(say('SomethingNew', { a: { b: 1 } })).toBe('SomethingNew');
    expect(say('TicketOpened', {})).toBe('TicketOpened');
    expect(say('PurchaseMade', { amount: 'twelve' })).toBe('PurchaseMade');
    expect(say('FeatureAdopted', null)).toBe('FeatureAdopted');
  });
});
