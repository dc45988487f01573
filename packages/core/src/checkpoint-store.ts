import type { GlobalPosition } from './event-store.js';

/**
 * Where a consumer of the global log (the Kafka relay, an exporter) keeps how far it got.
 * Projections keep their checkpoint with their rows instead (same transaction); this port is for
 * consumers whose effects live elsewhere (e.g. acknowledged by a Kafka broker) and that save the
 * checkpoint only after the effect is durable: at-least-once.
 */
export interface CheckpointStore {
  /** The last position fully handled by `name`, 0 if none. */
  load(name: string): Promise<GlobalPosition>;
  /** Records that `name` has handled everything up to `position`. Never moves backwards. */
  save(name: string, position: GlobalPosition): Promise<void>;
  close(): Promise<void>;
}
