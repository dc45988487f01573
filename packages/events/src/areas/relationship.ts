import { z } from 'zod';
import { defineEvent } from '../define.js';
import { notPersonal } from '../classify.js';
import { AcquisitionChannel, personal, PersonalShortText, Segment } from '../primitives.js';

const PersonalName = personal(z.string().min(1).max(200));
const Email = personal(z.email().max(254));
const Phone = personal(
  z.string().regex(/^\+?[0-9 ()-]{4,32}$/, 'a phone number: digits, spaces, ( ) - and an optional leading +'),
);
const Country = notPersonal(z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code'));

export const CustomerRegistered = defineEvent({
  type: 'CustomerRegistered',
  area: 'relationship',
  description: 'A customer entered the relationship: segment and how they were acquired',
  latest: z.strictObject({
    segment: Segment,
    acquisitionChannel: AcquisitionChannel,
    name: PersonalName.optional(),
    email: Email.optional(),
    phone: Phone.optional(),
    companyName: PersonalShortText.optional(),
    country: Country.optional(),
  }),
});

export const CustomerProfileUpdated = defineEvent({
  type: 'CustomerProfileUpdated',
  area: 'relationship',
  description: 'Contact or profile details changed (personal data)',
  latest: z
    .strictObject({
      name: PersonalName.optional(),
      email: Email.optional(),
      phone: Phone.optional(),
      companyName: PersonalShortText.optional(),
      country: Country.optional(),
      segment: Segment.optional(),
    })
    .refine((d) => Object.keys(d).length > 0, 'at least one field must change'),
});

export const CustomerErased = defineEvent({
  type: 'CustomerErased',
  area: 'relationship',
  description: "The customer's personal data must be forgotten (right to erasure): their key is destroyed",
  latest: z.strictObject({
    reason: z.enum(['customer_request', 'retention_policy', 'legal_order']),
    requestedBy: PersonalShortText.optional(),
  }),
});
