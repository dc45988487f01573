import type { RawEnvelope } from '@crm-ledger/events';

/** A valid CustomerRegistered envelope for specs (deterministic ids). */
export function registered(customerId: string, n = 1, extra: Partial<RawEnvelope> = {}): RawEnvelope {
  return {
    eventId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    type: 'CustomerRegistered',
    schemaVersion: 1,
    customerId,
    occurredAt: '2024-05-01T09:30:00Z',
    data: { segment: 'B2C', acquisitionChannel: 'referral' },
    ...extra,
  };
}
