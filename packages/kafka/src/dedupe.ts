/**
 * Remembers which events a consumer has handled. The relay delivers at least once, so after a relay crash an event
 * can arrive twice (always soon after its first copy, in the same partition): a consumer skips what it has seen.
 * A consumer whose view lives in a database should implement this in the same database and transaction as the view.
 */
export interface Deduplicator {
  has(eventId: string): boolean;
  add(eventId: string): void;
}

/** An in-memory deduplicator that keeps the `capacity` most recent event ids (default 200 000). */
export function memoryDeduplicator(capacity = 200_000): Deduplicator {
  const seen = new Set<string>();
  return {
    has: (eventId) => seen.has(eventId),
    add(eventId) {
      if (seen.has(eventId)) return;
      seen.add(eventId);
      if (seen.size > capacity) {
        // Sets iterate in insertion order: the first one is the oldest.
        const oldest = seen.values().next().value;
        if (oldest !== undefined) seen.delete(oldest);
      }
    },
  };
}
