import { z } from 'zod';
import type { DataOf, EventType } from './catalogue.js';
import { CustomerId, Id, SourceRef, Timestamp } from './primitives.js';

/** Fields every event carries, whatever its type. */
export const envelopeFields = {
  // Canonical form (issue #14): a UUID is stored and compared in lower case, so `5A0E…` is the same event as
  // `5a0e…` (a duplicate, never a second event). Braces and `urn:uuid:` are refused, not rewritten.
  eventId: z
    .uuid()
    .toLowerCase()
    .describe(
      'Unique id of the event: the idempotency key of every append. A UUID in its 8-4-4-4-12 hex form; compared and stored in lower case (upper-case letters are the same id)',
    ),
  type: z.string().min(1).max(64),
  schemaVersion: z.int().min(1).max(1000),
  customerId: CustomerId,
  occurredAt: Timestamp.describe(
    'When it happened in the world (ISO-8601 with Z or an offset; stored in UTC, the offset not kept)',
  ),
  correlationId: Id.optional().describe('Groups events of one business process'),
  causationId: Id.optional().describe('The event or command that caused this one'),
  source: SourceRef.optional().describe(
    'The system that reported the event, a URI-reference (the ce_source header on Kafka)',
  ),
  importId: Id.optional().describe(
    'The import (`crm-ledger import`) that wrote the event: `crm-ledger void --import` voids it',
  ),
};

/** Any event as it travels or is stored: a valid envelope, data not yet checked against its type. */
export const RawEnvelope = z.strictObject({ ...envelopeFields, data: z.unknown() });
export type RawEnvelope = z.infer<typeof RawEnvelope>;

export interface EnvelopeMeta {
  readonly eventId: string;
  readonly schemaVersion: number;
  readonly customerId: string;
  readonly occurredAt: string;
  readonly correlationId?: string | undefined;
  readonly causationId?: string | undefined;
  readonly source?: string | undefined;
  readonly importId?: string | undefined;
}

/** An event of one type in its newest version. */
export type EventOf<T extends EventType> = EnvelopeMeta & { readonly type: T; readonly data: DataOf<T> };

/** The union of all events, each in its newest version: what projections and consumers match on. */
export type LedgerEvent = { [T in EventType]: EventOf<T> }[EventType];

/** The stream that holds one customer's events. One function names them all. */
export function customerStream(customerId: string): string {
  return `customer-${customerId}`;
}

export const CUSTOMER_STREAM_PREFIX = 'customer-';
