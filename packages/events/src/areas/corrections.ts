import { z } from 'zod';
import { defineEvent } from '../define.js';
import { notPersonal } from '../classify.js';
import { CalendarDate, Currency, Id, PersonalText } from '../primitives.js';

/**
 * A compensating event: the event `eventId` of the same customer stream was a mistake and must have no
 * effect on any view. The voided event stays in the log (immutable, still verified); every projection folds
 * the customer's stream as if it had never been recorded. By convention a void carries the `occurredAt` of
 * the event it voids, so a business-time cut includes both or neither.
 */
export const EventVoided = defineEvent({
  type: 'EventVoided',
  area: 'relationship',
  description:
    'An earlier event of this customer was a mistake: every view behaves as if it had never been recorded (it stays in the log)',
  latest: z.strictObject({
    eventId: z.uuid().describe('The voided event (same customer stream)'),
    reason: PersonalText.describe('Why it was voided (free text: personal data)'),
    importId: Id.optional().describe('The import the voided event came from, when a whole import was voided'),
  }),
  pii: ['reason'],
});

/** A positive decimal number written as text (never a float in the ledger): `1.0842`, `157.3`. */
export const DecimalRate = notPersonal(
  z
    .string()
    .max(32)
    .regex(/^(?:0|[1-9]\d{0,11})(?:\.\d{1,12})?$/, 'a positive decimal number like 1.0842')
    .refine((s) => Number(s) > 0, 'a rate must be greater than 0'),
);

/** The stream that holds exchange rates: they are not about one customer, so they live in one reserved stream. */
export const EXCHANGE_RATES_CUSTOMER_ID = 'fx-rates';

/**
 * An exchange rate the business uses for reporting: 1 unit of `base` = `rate` units of `quote`, valid from
 * `date` until the pair's next recorded date. Recorded in the customer stream `fx-rates`
 * ({@link EXCHANGE_RATES_CUSTOMER_ID}); conversions read the rates as of their cut, so they replay the same.
 */
export const ExchangeRateRecorded = defineEvent({
  type: 'ExchangeRateRecorded',
  area: 'revenue',
  description:
    'An exchange rate for reporting: 1 base = rate quote, from a date on (stream customer-fx-rates)',
  latest: z
    .strictObject({
      base: Currency,
      quote: Currency,
      date: CalendarDate.describe('First day the rate applies'),
      rate: DecimalRate.describe('Units of quote for 1 unit of base (major units), as a decimal string'),
    })
    .refine((d) => d.base !== d.quote, { message: 'base and quote must differ', path: ['quote'] }),
});
