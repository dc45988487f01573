import { v5 } from 'uuid';

/**
 * The namespace of every id the importers derive. Fixed forever: changing it would give every
 * re-imported record a new eventId, and re-imports would no longer be idempotent.
 */
export const IMPORT_NAMESPACE = '84cf300c-bef6-4008-870a-502998ce7050';

/**
 * A deterministic UUID (RFC 9562 version 5: SHA-1 of namespace + name) for an imported record.
 * The same source name and record key always give the same eventId, which is the ledger's
 * idempotency key: importing the same file twice writes nothing the second time.
 */
export function deterministicEventId(sourceName: string, recordKey: string): string {
  return v5(`${sourceName}\u0000${recordKey}`, IMPORT_NAMESPACE);
}
