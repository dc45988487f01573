import {
  canonicalJson,
  idempotencyConflict,
  type IdempotencyConflict,
  type StoredEvent,
} from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';

/**
 * What a batch is, given the events already in its stream:
 * - `new`: none of its ids is stored: append it;
 * - `duplicate`: every id is stored with the same content (a retry): write nothing, answer with the stored events;
 * - `conflict`: an id is stored with other content, or the batch mixes stored and new ids.
 *
 * The port promises this "whatever the expected revision". ESDB itself only recognises a retry when the
 * repeated ids sit exactly after the expected revision (and, with `ANY`, only while they are in a cache of
 * recent ids), and never compares content: so the adapter decides from the stream's contents itself.
 */
export type BatchClass =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate'; readonly stored: readonly StoredEvent[] }
  | { readonly kind: 'conflict'; readonly conflict: IdempotencyConflict };

export function classifyBatch(
  streamName: string,
  stored: readonly StoredEvent[],
  batch: readonly RawEnvelope[],
): BatchClass {
  const byId = new Map<string, StoredEvent>();
  for (const s of stored) byId.set(s.event.eventId, s);
  const matches: StoredEvent[] = [];
  let anyNew = false;
  for (const e of batch) {
    const s = byId.get(e.eventId);
    if (s === undefined) {
      anyNew = true;
      continue;
    }
    if (canonicalJson(s.event) !== canonicalJson(e)) {
      return conflict(e.eventId, streamName, 'different_content');
    }
    matches.push(s);
  }
  if (matches.length === 0) return { kind: 'new' };
  // The port names the stored event the batch collides with (the conformance suite asserts it for every store).
  if (anyNew) return conflict(matches[0]!.event.eventId, streamName, 'partial_batch');
  return { kind: 'duplicate', stored: matches };
}

const conflict = (
  eventId: string,
  streamName: string,
  reason: IdempotencyConflict['reason'],
): BatchClass => ({
  kind: 'conflict',
  conflict: idempotencyConflict(eventId, streamName, reason),
});
