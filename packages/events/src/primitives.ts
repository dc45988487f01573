import { z } from 'zod';

/** Identifiers chosen by the reporting systems (customer ids, order ids, ticket ids...). */
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/,
    'letters, digits and . _ : @ - only, starting with a letter or digit',
  );

export const CustomerId = Id.describe(
  'The customer this event belongs to; the key of its stream and of Kafka messages',
);

/** An instant in ISO-8601 UTC (`Z`), e.g. `2024-05-01T09:30:00Z` or with milliseconds. */
export const Timestamp = z.iso.datetime({ offset: false });

/** A calendar date, `YYYY-MM-DD`. */
export const CalendarDate = z.iso.date();

/** Short human text (names of plans, features, courses). */
export const ShortText = z.string().min(1).max(200);
/** Free text written by or about a person: treated as personal data. */
export const FreeText = z.string().min(1).max(4000);
/**
 * A personal field as the ledger stores it: encrypted with the customer's own key (crypto-shredding, see
 * docs/privacy.md). `enc:v1:<keyId>:<base64url of IV ‖ ciphertext ‖ tag>`; bounded so that the largest
 * plaintext any personal field accepts (4,000 characters of JSON, escapes included) fits.
 */
export const EncryptedField = z
  .string()
  .max(40_000)
  .regex(
    /^enc:v1:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{38,}$/,
    'an encrypted personal field enc:v1:<keyId>:<base64url>',
  )
  .describe('A personal field encrypted with the customer key (enc:v1:<keyId>:<base64url>)');

/** Prefix of every encrypted personal field. */
export const ENCRYPTED_FIELD_PREFIX = 'enc:v1:';

/**
 * A personal field: its plaintext schema (validated before encryption) or its encrypted form (what the store
 * holds). Every field a definition lists in `pii` is declared with this.
 */
export function personal<S extends z.ZodType<string>>(plaintext: S) {
  // A value that is neither is reported with the plaintext schema's message ("Invalid email address"), not
  // zod's generic "Invalid input" of a union: senders only ever send plaintext.
  return z.union([plaintext, EncryptedField], {
    error: (issue) => (issue.code === 'invalid_union' ? issue.errors[0]?.[0]?.message : undefined),
  });
}

/** Free text as events carry it: plaintext before encryption, `enc:v1:...` once stored. */
export const PersonalText = personal(FreeText);

/** A machine-readable label (category, touchpoint, feature key). */
export const Slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits and _ . - only');

/** ISO 4217 currency codes in circulation. */
export const CURRENCIES = [
  'AED',
  'AFN',
  'ALL',
  'AMD',
  'ANG',
  'AOA',
  'ARS',
  'AUD',
  'AWG',
  'AZN',
  'BAM',
  'BBD',
  'BDT',
  'BGN',
  'BHD',
  'BIF',
  'BMD',
  'BND',
  'BOB',
  'BRL',
  'BSD',
  'BTN',
  'BWP',
  'BYN',
  'BZD',
  'CAD',
  'CDF',
  'CHF',
  'CLP',
  'CNY',
  'COP',
  'CRC',
  'CUP',
  'CVE',
  'CZK',
  'DJF',
  'DKK',
  'DOP',
  'DZD',
  'EGP',
  'ERN',
  'ETB',
  'EUR',
  'FJD',
  'FKP',
  'GBP',
  'GEL',
  'GHS',
  'GIP',
  'GMD',
  'GNF',
  'GTQ',
  'GYD',
  'HKD',
  'HNL',
  'HTG',
  'HUF',
  'IDR',
  'ILS',
  'INR',
  'IQD',
  'IRR',
  'ISK',
  'JMD',
  'JOD',
  'JPY',
  'KES',
  'KGS',
  'KHR',
  'KMF',
  'KPW',
  'KRW',
  'KWD',
  'KYD',
  'KZT',
  'LAK',
  'LBP',
  'LKR',
  'LRD',
  'LSL',
  'LYD',
  'MAD',
  'MDL',
  'MGA',
  'MKD',
  'MMK',
  'MNT',
  'MOP',
  'MRU',
  'MUR',
  'MVR',
  'MWK',
  'MXN',
  'MYR',
  'MZN',
  'NAD',
  'NGN',
  'NIO',
  'NOK',
  'NPR',
  'NZD',
  'OMR',
  'PAB',
  'PEN',
  'PGK',
  'PHP',
  'PKR',
  'PLN',
  'PYG',
  'QAR',
  'RON',
  'RSD',
  'RUB',
  'RWF',
  'SAR',
  'SBD',
  'SCR',
  'SDG',
  'SEK',
  'SGD',
  'SHP',
  'SLE',
  'SOS',
  'SRD',
  'SSP',
  'STN',
  'SVC',
  'SYP',
  'SZL',
  'THB',
  'TJS',
  'TMT',
  'TND',
  'TOP',
  'TRY',
  'TTD',
  'TWD',
  'TZS',
  'UAH',
  'UGX',
  'USD',
  'UYU',
  'UZS',
  'VES',
  'VND',
  'VUV',
  'WST',
  'XAF',
  'XCD',
  'XOF',
  'XPF',
  'YER',
  'ZAR',
  'ZMW',
  'ZWL',
] as const;
export const Currency = z.enum(CURRENCIES);

/** Money in integer minor units (cents) with its ISO 4217 currency: never floating point. */
export const Money = z
  .strictObject({
    amountMinor: z.int().min(0).max(1_000_000_000_000),
    currency: Currency,
  })
  .describe('An amount in integer minor units (e.g. cents) and its ISO 4217 currency');
export type Money = z.infer<typeof Money>;

export const CHANNELS = [
  'email',
  'phone',
  'chat',
  'web',
  'mobile_app',
  'social',
  'sms',
  'in_person',
  'video',
  'community',
] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

export const ACQUISITION_CHANNELS = [
  'organic_search',
  'paid_search',
  'referral',
  'partner',
  'social',
  'direct',
  'email_campaign',
  'event',
  'outbound_sales',
  'marketplace',
] as const;
export const AcquisitionChannel = z.enum(ACQUISITION_CHANNELS);

export const SEGMENTS = ['B2B', 'B2C'] as const;
export const Segment = z.enum(SEGMENTS);
export type Segment = z.infer<typeof Segment>;

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const Priority = z.enum(PRIORITIES);
export type Priority = z.infer<typeof Priority>;

/** Sentiment from -1 (very negative) to 1 (very positive). */
export const Sentiment = z.number().min(-1).max(1);
/** Customer effort on the CES scale, 1 (very easy) to 7 (very hard). */
export const Effort = z.int().min(1).max(7);
