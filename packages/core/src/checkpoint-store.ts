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
  /**
   * Takes the lock of `name` across processes, or answers `undefined` at once when another process holds it:
   * one active consumer per checkpoint (the Kafka relay), the others wait as standbys and try again. The lock is
   * freed by `release`, by `close`, and by the death of the holding process (so a standby takes over).
   * Absent on stores that cannot lock.
   */
  tryLock?(name: string): Promise<CheckpointLock | undefined>;
  close(): Promise<void>;
}

/** A held checkpoint lock. */
export interface CheckpointLock {
  /** Aborted if the lock is lost without `release` (its database session died): stop at once. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}
