import { z } from 'zod';
import { markPersonal, notPersonal } from './classify.js';

/**
 * Identifiers chosen by the reporting systems (order ids, ticket ids, agent ids...): opaque, never contact details.
 * `@` is refused, so an e-mail address cannot be used as an identifier.
 */
export const Id = notPersonal(
  z
    .string()
    .min(1)
    .max(64)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
      'an opaque identifier: letters, digits and . _ : - only, starting with a letter or digit (no e-mail address)',
    ),
);

/**
 * The customer id as the envelope's schema accepts it (`@` allowed, for deployments that opt in, see
 * `CustomerIdPolicy`); by default `validateEvent` refuses one that looks like an e-mail address or a phone number,
 * because it becomes the Kafka message key and the `ce_subject` header.
 */
export const CustomerId = notPersonal(
  z
    .string()
    .min(1)
    .max(64)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/,
      'letters, digits and . _ : @ - only, starting with a letter or digit',
    )
    .describe(
      'The customer this event belongs to; the key of its stream and of Kafka messages (an opaque id)',
    ),
);

/** Whether a customer id looks like an e-mail address (`local@domain`). */
export function looksLikeEmail(id: string): boolean {
  return /^[^@]+@[^@]+$/.test(id);
}

/** Whether a customer id looks like a phone number: 8 to 15 digits, with at most + ( ) . - between them. */
export function looksLikePhone(id: string): boolean {
  if (!/^\+?[0-9().-]+$/.test(id)) return false;
  const digits = id.replace(/[^0-9]/g, '').length;
  return digits >= 8 && digits <= 15;
}

/**
 * The system that reported an event, as a URI-reference (RFC 3986): a name (`crm`, `shop.checkout`), a path
 * (`imports/orders%202024.csv`) or a URI (`https://shop.example/orders`). No spaces, no `@`: it becomes the
 * CloudEvents `ce_source` header, so it must not be a person's name or address.
 */
export const SourceRef = notPersonal(
  z
    .string()
    .min(1)
    .max(100)
    .regex(
      /^(?:[A-Za-z0-9\-._~:/?#[\]!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/,
      "a URI-reference: letters, digits, - . _ ~ : / ? # [ ] ! $ & ' ( ) * + , ; = and %XX escapes (no spaces, no @)",
    ),
);

/**
 * An instant in ISO-8601: UTC (`2024-05-01T09:30:00Z`, or with milliseconds) is kept as given; with an offset
 * (`2024-05-01T11:30:00+02:00`) it is converted to UTC with milliseconds (`2024-05-01T09:30:00.000Z`) and the
 * offset is not kept (docs/ingest.md). What the ledger stores and every view compares is always UTC.
 */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .transform((t) => (t.endsWith('Z') ? t : new Date(t).toISOString()));

/** A calendar date, `YYYY-MM-DD`. */
export const CalendarDate = z.iso.date();

/** Short human text, unclassified: declare a field with `ProductName` or `PersonalShortText`, never with this. */
export const ShortText = z.string().min(1).max(200);

/** Whether a text holds a run of 9 to 15 digits, possibly split by spaces, + ( ) . -: a phone number's shape. */
export function containsPhoneNumber(text: string): boolean {
  for (const run of text.match(/\+?[0-9][0-9 ().-]*[0-9]/g) ?? []) {
    const digits = run.replace(/[^0-9]/g, '').length;
    if (digits >= 9 && digits <= 15) return true;
  }
  return false;
}

/**
 * Names from the company's own vocabulary (plans, courses): not personal. Refuses text shaped like an e-mail
 * address or a phone number, the contact details that would otherwise slip into a published field.
 */
export const ProductName = notPersonal(
  ShortText.refine((s) => !s.includes('@'), 'a product name, not an e-mail address').refine(
    (s) => !containsPhoneNumber(s),
    'a product name, not a phone number',
  ),
);
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
  return markPersonal(
    z.union([plaintext, EncryptedField], {
      error: (issue) => (issue.code === 'invalid_union' ? issue.errors[0]?.[0]?.message : undefined),
    }),
  );
}

/** Free text as events carry it: plaintext before encryption, `enc:v1:...` once stored. */
export const PersonalText = personal(FreeText);
/** Short free text (reasons, descriptions, evidence, who asked): personal by default, like all free text. */
export const PersonalShortText = personal(ShortText);

/** A machine-readable label (category, touchpoint, feature key). */
export const Slug = notPersonal(
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits and _ . - only'),
);

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
