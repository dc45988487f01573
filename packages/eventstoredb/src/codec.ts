import * as E from 'fp-ts/lib/Either.js';
import { jsonEvent, type JSONEventData, type JSONType, type RecordedEvent } from '@eventstore/db-client';
import { emptyRecord, RawEnvelope } from '@crm-ledger/events';
import type { StoredEvent } from '@crm-ledger/core';
import { toGlobalPosition } from './positions.js';
import { fromEsdbRevision } from './revisions.js';

/**
 * How a crm-ledger envelope sits in an EventStoreDB event:
 * - ESDB event id = `eventId` (ESDB's own idempotency key), ESDB event type = `type`;
 * - data = the envelope's `data` (JSON);
 * - metadata = every other envelope field under its own name, plus `$correlationId` / `$causationId`
 *   (the `$` keys ESDB's own projections and UI understand) when the envelope has them.
 * - metadata `chainLink` = the event's chain link (`chainLink` of @crm-ledger/core), computed by the adapter
 *   from the stream head it reads before every append (events from before the chain have none: '').
 * Reading rebuilds the envelope from the metadata's copies (not from ESDB's normalised id), so it comes back
 * exactly as appended.
 */
export interface EnvelopeMetadata {
  readonly eventId: string;
  readonly schemaVersion: number;
  readonly customerId: string;
  readonly occurredAt: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly source?: string;
  readonly $correlationId?: string;
  readonly $causationId?: string;
  readonly chainLink?: string;
  readonly [key: string]: unknown;
}

export function toEventData(envelope: RawEnvelope, link: string): JSONEventData {
  const { data, type, ...meta } = envelope;
  const metadata: Record<string, unknown> = { ...meta, chainLink: link };
  if (envelope.correlationId !== undefined) metadata.$correlationId = envelope.correlationId;
  if (envelope.causationId !== undefined) metadata.$causationId = envelope.causationId;
  for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];
  return jsonEvent({ id: envelope.eventId, type, data: data as JSONType, metadata });
}

/**
 * Bytes ESDB counts against its maximum append size (default 1 MiB): the serialised data plus metadata of
 * every event of the append.
 */
export function appendSize(events: readonly JSONEventData[]): number {
  let size = 0;
  for (const e of events) {
    size += Buffer.byteLength(JSON.stringify(e.data ?? null), 'utf8');
    size += e.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(e.metadata), 'utf8');
  }
  return size;
}

/** The envelope fields kept in the metadata under their own names: the only keys the envelope is rebuilt from. */
const ENVELOPE_METADATA_KEYS: readonly string[] = Object.keys(RawEnvelope.shape).filter(
  (k) => k !== 'type' && k !== 'data',
);

/** Why a record in a ledger stream is not a crm-ledger event (Left), or the event. */
export type DecodedRecord = E.Either<string, StoredEvent>;

/**
 * Rebuilds the stored event from what ESDB returns (the namespace, if any, removed from the stream name), or
 * says why the record is not one of ours (not JSON, no envelope metadata, a tombstone, a revision outside
 * ours). The envelope is rebuilt from *our* metadata keys only: whatever else the metadata holds (the
 * server's or a client's `$traceId` / `$spanId`, `$correlationId` / `$causationId` copies) is ignored, so a
 * retry still compares equal and the hash chain still verifies.
 */
export function decodeRecorded(recorded: RecordedEvent, namespace = ''): DecodedRecord {
  if (recorded.position === undefined) {
    throw new Error(
      'EventStoreDB did not return event positions: crm-ledger needs EventStoreDB 22.6 or newer',
    );
  }
  if (recorded.type.startsWith('$')) return E.left(`system event ${recorded.type}`);
  if (!recorded.isJson) return E.left('not JSON');
  const m = (recorded as unknown as { metadata: unknown }).metadata;
  if (typeof m !== 'object' || m === null || Array.isArray(m) || m instanceof Uint8Array) {
    return E.left('no crm-ledger envelope metadata');
  }
  const meta = m as Record<string, unknown>;
  if (
    typeof meta.eventId !== 'string' ||
    typeof meta.schemaVersion !== 'number' ||
    typeof meta.customerId !== 'string' ||
    typeof meta.occurredAt !== 'string'
  ) {
    return E.left('no crm-ledger envelope metadata');
  }
  if (recorded.revision < 0n || recorded.revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    return E.left(`revision ${recorded.revision} outside 0..2^53-1`);
  }
  const envelope: Record<string, unknown> = emptyRecord();
  for (const k of ENVELOPE_METADATA_KEYS) if (meta[k] !== undefined) envelope[k] = meta[k];
  const event = { ...envelope, type: recorded.type, data: recorded.data } as RawEnvelope;
  const link = meta.chainLink;
  return E.right({
    globalPosition: toGlobalPosition(recorded.position),
    streamName: recorded.streamId.slice(namespace.length),
    revision: fromEsdbRevision(recorded.revision),
    recordedAt: recorded.created.toISOString(),
    event,
    hash: typeof link === 'string' ? link : '',
  });
}

/** Like `decodeRecorded`, for records that must be ours: throws when the record is not. */
export function fromRecordedEvent(recorded: RecordedEvent, namespace = ''): StoredEvent {
  const decoded = decodeRecorded(recorded, namespace);
  if (E.isLeft(decoded)) {
    throw new Error(
      `event ${recorded.id} in ${recorded.streamId} is not a crm-ledger event: ${decoded.left}`,
    );
  }
  return decoded.right;
}
