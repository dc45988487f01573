import { describe, expect, it } from 'vitest';
import { validateItems } from './ingest.js';

const event = {
  eventId: '0b6f2d2e-6a4b-4f43-9b61-1f1a3e1d2c3b',
  type: 'FeatureAdopted',
  schemaVersion: 1,
  customerId: 'alice@example.com',
  occurredAt: '2024-05-01T09:30:00Z',
  data: { feature: 'export' },
};

describe('CRM_LEDGER_CUSTOMER_ID_POLICY at the ingest API', () => {
  it('opaque (the default) refuses an e-mail customer id with a clear issue', () => {
    const { valid, invalid } = validateItems([event]);
    expect(valid).toEqual([]);
    expect(invalid[0]?.issues).toEqual([
      expect.objectContaining({ path: ['events', 0, 'customerId'], code: 'personal_customer_id' }),
    ]);
  });

  it('any accepts it knowingly', () => {
    const { valid, invalid } = validateItems([event], ['events'], 'any');
    expect(invalid).toEqual([]);
    expect(valid).toHaveLength(1);
  });
});
