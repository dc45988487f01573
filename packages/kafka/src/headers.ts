/**
 * Kafka headers of every published event: CloudEvents 1.0 Kafka protocol binding, binary-mode attribute names
 * (`ce_` + attribute), plus CloudEvents extension attributes of our own (lowercase, `ce_` prefixed too).
 * The value is the whole event envelope as JSON, so a consumer can ignore the headers; they are there to route
 * and filter without parsing the value.
 */
export const HEADERS = {
  /** The event id: the key consumers dedupe by. */
  id: 'ce_id',
  /** The event type, e.g. `TicketOpened`. */
  type: 'ce_type',
  /** `/crm-ledger/<source>` (the system that reported the event), `/crm-ledger` when the event has none. */
  source: 'ce_source',
  /** The customer id (also the message key). */
  subject: 'ce_subject',
  /** When it happened in the world (`occurredAt`). */
  time: 'ce_time',
  specVersion: 'ce_specversion',
  /** The JSON Schema of the value, `https://crm-ledger.dev/schemas/<type>.v<version>.schema.json` (in docs/schemas). */
  dataSchema: 'ce_dataschema',
  contentType: 'content-type',
  /** The schema version of the value's `data`, as stored (consumers upcast). */
  schemaVersion: 'ce_schemaversion',
  correlationId: 'ce_correlationid',
  causationId: 'ce_causationid',
  /** Position of the event in the ledger's global log (decimal). */
  globalPosition: 'ce_globalposition',
  /** When the ledger recorded the event. */
  recordedAt: 'ce_recordedat',
  /** Comma-separated personal-data fields removed from `data` before publishing (absent when none were). */
  redacted: 'ce_redacted',
} as const;

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const CONTENT_TYPE = 'application/json';

/** Characters a URI-reference (RFC 3986) holds as they are; every other one is percent-encoded. */
const NOT_URI_CHAR = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:/?#[\]!$&'()*+,;=%]/gu;

/**
 * The `ce_source` of an event: `/crm-ledger/<source>` (`/crm-ledger` without one), a URI-reference as the
 * CloudEvents Kafka binding requires. The ledger accepts only URI-reference sources; a source stored before that
 * rule (a file name with spaces) is percent-encoded here, so the header is valid whatever the store holds.
 */
export function sourceOf(source: string | undefined): string {
  if (source === undefined) return '/crm-ledger';
  return `/crm-ledger/${source.replace(NOT_URI_CHAR, (c) => encodeURIComponent(c))}`;
}

/** The `$id` of the JSON Schema of an event type at a version, as written by `pnpm schemas` into docs/schemas. */
export function dataSchemaOf(type: string, version: number): string {
  return `https://crm-ledger.dev/schemas/${type}.v${version}.schema.json`;
}
