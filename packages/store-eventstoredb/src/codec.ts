import { jsonEvent, type JSONEventData, type JSONType, type RecordedEvent } from '@eventstore/db-client';
import type { RawEnvelope } from '@crm-ledger/events';
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

type LedgerJsonEvent = { type: string; data: unknown; metadata: EnvelopeMetadata };

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

/**
 * Rebuilds the stored event from what ESDB returns (the namespace, if any, removed from the stream name).
 * Throws when the record is not one of ours (a bug).
 */
export function fromRecordedEvent(recorded: RecordedEvent, namespace = ''): StoredEvent {
  if (!recorded.isJson) throw new Error(`event ${recorded.id} in ${recorded.streamId} is not JSON`);
  if (recorded.position === undefined) {
    throw new Error(
      'EventStoreDB did not return event positions: crm-ledger needs EventStoreDB 22.6 or newer',
    );
  }
  const ev = recorded as unknown as LedgerJsonEvent;
  const m = ev.metadata as Partial<EnvelopeMetadata> | undefined;
  if (
    m === undefined ||
    typeof m.eventId !== 'string' ||
    typeof m.schemaVersion !== 'number' ||
    typeof m.customerId !== 'string' ||
    typeof m.occurredAt !== 'string'
  ) {
    throw new Error(`event ${recorded.id} in ${recorded.streamId} has no crm-ledger envelope metadata`);
  }
  const { $correlationId: _c, $causationId: _k, chainLink: link, ...meta } = m;
  const event = { ...meta, type: recorded.type, data: ev.data } as RawEnvelope;
  return {
    globalPosition: toGlobalPosition(recorded.position),
    streamName: recorded.streamId.slice(namespace.length),
    revision: fromEsdbRevision(recorded.revision),
    recordedAt: recorded.created.toISOString(),
    event,
    hash: typeof link === 'string' ? link : '',
  };
}
