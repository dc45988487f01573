import type { GlobalPosition } from './event-store.js';

/**
 * A digest of the global log (see `DigestFolder`): the `number`-th digest covers every event up to
 * `position`; `count` events in all since the start of the log.
 */
export interface LedgerDigest {
  /** 1, 2, 3...: digest k chains to digest k - 1. */
  readonly number: number;
  readonly position: GlobalPosition;
  /** Events of the log up to `position` (from the start). */
  readonly count: number;
  /** Lower-case hex SHA-256. */
  readonly digest: string;
  /** When the digest was recorded (ISO-8601 UTC). */
  readonly recordedAt: string;
}

/**
 * Where the notary keeps the digests of the global log, next to the ledger (for the SQLite store: a
 * `ledger_digests` table in the same file). Digests only ever get appended.
 */
export interface DigestStore {
  /** The last recorded digest, undefined if none. */
  last(): Promise<LedgerDigest | undefined>;
  /** Every digest in order of number. */
  all(): Promise<readonly LedgerDigest[]>;
  /** Appends the next digest; its number must be last + 1 and its position beyond the last one. */
  record(digest: LedgerDigest): Promise<void>;
  close(): Promise<void>;
}
