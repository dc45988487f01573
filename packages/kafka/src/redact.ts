import { emptyRecord, definitionOf } from '@crm-ledger/events';

export interface Redacted {
  readonly data: unknown;
  /** The personal-data fields that were present and removed, in catalogue order. */
  readonly dropped: readonly string[];
}

/**
 * Removes the personal-data fields the catalogue marks for the event's type (`definitionOf(type).pii`).
 * Until per-customer encryption exists, personal data never reaches Kafka: the fields are dropped (every PII field
 * is optional in the catalogue, so the redacted event still validates) and the relay names them in a header.
 */
export function redactPii(type: string, data: unknown): Redacted {
  const pii = definitionOf(type)?.pii ?? [];
  if (pii.length === 0 || typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { data, dropped: [] };
  }
  const record = data as Record<string, unknown>;
  const dropped = pii.filter((field) => Object.hasOwn(record, field));
  if (dropped.length === 0) return { data, dropped };
  const kept = emptyRecord<unknown>();
  for (const [key, value] of Object.entries(record)) {
    if (!dropped.includes(key)) kept[key] = value;
  }
  return { data: kept, dropped };
}
