import type { RawEnvelope } from '@crm-ledger/events';

/** A valid, deterministic UUID (v4 layout) from a number: stable ids for specs. */
export function testUuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * A small valid history for specs: per customer, a registration with personal data, a purchase, a ticket opened
 * (v1, so consumers upcast it) with a subject, and a resolution. Only for specs; the big histories come from
 * `@crm-ledger/synthetic`.
 */
export function sampleHistory(customers: number, start = 0): { customerId: string; events: RawEnvelope[] }[] {
  const out: { customerId: string; events: RawEnvelope[] }[] = [];
  for (let c = start; c < start + customers; c++) {
    const customerId = `c-${c}`;
    const id = (k: number) => testUuid(c * 10 + k);
    const at = (k: number) => new Date(Date.UTC(2024, 0, 1 + k, 9, c % 60)).toISOString();
    out.push({
      customerId,
      events: [
        {
          eventId: id(1),
          type: 'CustomerRegistered',
          schemaVersion: 1,
          customerId,
          occurredAt: at(0),
          correlationId: `signup-${c}`,
          data: {
            segment: 'B2C',
            acquisitionChannel: 'referral',
            name: 'Ada Lovelace',
            email: 'ada@example.com',
          },
        },
        {
          eventId: id(2),
          type: 'PurchaseMade',
          schemaVersion: 1,
          customerId,
          occurredAt: at(1),
          source: 'shop',
          data: { orderId: `o-${c}`, amount: { amountMinor: 1999, currency: 'EUR' }, channel: 'web' },
        },
        {
          eventId: id(3),
          type: 'TicketOpened',
          schemaVersion: 1,
          customerId,
          occurredAt: at(2),
          data: { ticketId: `t-${c}`, channel: 'email', category: 'billing', subject: 'My invoice is wrong' },
        },
        {
          eventId: id(4),
          type: 'TicketResolved',
          schemaVersion: 1,
          customerId,
          occurredAt: at(3),
          causationId: id(3),
          data: { ticketId: `t-${c}`, resolution: 'solved' },
        },
      ],
    });
  }
  return out;
}
