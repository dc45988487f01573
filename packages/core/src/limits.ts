/**
 * Limits every event store enforces the same way, so that a batch valid for one store is valid for all
 * (docs/event-store.md, "Limits"). They sit next to the port because they are part of its contract.
 */

/** At most this many events in one append. */
export const MAX_EVENTS_PER_APPEND = 10_000;

/**
 * Largest append, in bytes: the sum over the batch of each event's canonical JSON (UTF-8) *as the store
 * receives it* — after the crypto-shredding decorator has encrypted personal fields, so encryption overhead
 * is counted — plus `APPEND_OVERHEAD_BYTES_PER_EVENT` for what a store adds to each event. 1 MiB: EventStoreDB's
 * default `MaxAppendSize` (data + metadata of an append), the strictest of our stores; an EventStoreDB append
 * of a batch within this limit stays within it (its own measure is smaller: the envelope minus `type`, plus the
 * chain link and the `$correlationId` / `$causationId` copies, which the overhead covers).
 */
export const MAX_APPEND_BYTES = 1_048_576;

/**
 * Bytes counted per event on top of its canonical JSON: the chain link (64 hex characters and its key) and
 * the metadata copies EventStoreDB keeps (`$correlationId`, `$causationId`: ids of at most 64 characters, at most 2 × (20 + 64) bytes); 78 + 168 = 246 ≤ 256.
 */
export const APPEND_OVERHEAD_BYTES_PER_EVENT = 256;

/** The largest single event (canonical JSON as the store receives it): an append of just that event fits. */
export const MAX_EVENT_BYTES = MAX_APPEND_BYTES - APPEND_OVERHEAD_BYTES_PER_EVENT;

/** Why a batch is over the limits: the message, and the event's index when one event alone is too large. */
export interface LimitExceeded {
  readonly message: string;
  readonly index?: number;
}

/**
 * Checks a batch (each event's canonical JSON, as the store receives it) against the limits; returns the
 * refusal, or undefined when the batch fits.
 */
export function appendLimitExceeded(bodies: readonly string[]): LimitExceeded | undefined {
  if (bodies.length > MAX_EVENTS_PER_APPEND) {
    return { message: `at most ${MAX_EVENTS_PER_APPEND} events per append, got ${bodies.length}` };
  }
  let total = 0;
  for (let i = 0; i < bodies.length; i++) {
    const bytes = Buffer.byteLength(bodies[i]!, 'utf8');
    if (bytes > MAX_EVENT_BYTES) {
      return { message: `event ${i} is ${bytes} bytes, over the maximum of ${MAX_EVENT_BYTES}`, index: i };
    }
    total += bytes + APPEND_OVERHEAD_BYTES_PER_EVENT;
  }
  if (total > MAX_APPEND_BYTES) {
    return {
      message: `the batch is ${total} bytes, over the maximum append of ${MAX_APPEND_BYTES} (EventStoreDB's limit): append fewer events at a time (an append is all-or-nothing, so the store does not split it)`,
    };
  }
  return undefined;
}
