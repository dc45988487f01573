import type { Either } from 'fp-ts/lib/Either.js';
import type { GlobalPosition } from '@crm-ledger/core';

/** A customer's data key, unwrapped: 256 random bits and the id written into every ciphertext it made. */
export interface CustomerKey {
  readonly customerId: string;
  /** 16 hex characters, random: tells a ciphertext of this key from one of another. */
  readonly keyId: string;
  /** 32 bytes. Never logged, never stored unwrapped. */
  readonly key: Buffer;
}

/** The customer's key was destroyed (the customer was erased): their personal data can no longer be read. */
export interface KeyDestroyed {
  readonly type: 'KeyDestroyed';
  readonly customerId: string;
  readonly destroyedAt: string;
}

/** The customer has no key (none of their events held personal data yet). */
export interface KeyNotFound {
  readonly type: 'KeyNotFound';
  readonly customerId: string;
}

/** The key store could not be reached or failed (I/O, closed, connection). Retry may help. */
export interface KeyStoreUnavailable {
  readonly type: 'KeyStoreUnavailable';
  readonly message: string;
  readonly cause?: unknown;
}

export type GetKeyError = KeyNotFound | KeyDestroyed | KeyStoreUnavailable;
export type GetOrCreateKeyError = KeyDestroyed | KeyStoreUnavailable;

export interface DestroyResult {
  /** True when the key (or the tombstone of a customer who never had one) was already destroyed: nothing changed. */
  readonly alreadyDestroyed: boolean;
}

/**
 * The key store port: one data key per customer, kept apart from the ledger (its own SQLite file or PostgreSQL
 * schema) so that destroying a key never touches the immutable log. Keys are stored wrapped (AES-256-GCM) by
 * the master key; implementations unwrap them for the caller.
 *
 * A destroyed key leaves a tombstone: `getOrCreate` never makes a new key for an erased customer.
 */
export interface CustomerKeyStore {
  /** The customer's key, created (random 256 bits) on first use. `KeyDestroyed` once the customer was erased. */
  getOrCreate(customerId: string): Promise<Either<GetOrCreateKeyError, CustomerKey>>;
  /** The customer's key if it exists. */
  get(customerId: string): Promise<Either<GetKeyError, CustomerKey>>;
  /**
   * Destroys the customer's key (crypto-shredding): the wrapped key is deleted and overwritten, a tombstone
   * remains. Idempotent; a customer without a key gets the tombstone too.
   */
  destroy(customerId: string, at: string): Promise<Either<KeyStoreUnavailable, DestroyResult>>;
  /** How far the shredder (a log consumer) got, kept beside the keys it destroys. 0 if never saved. */
  loadCheckpoint(name: string): Promise<GlobalPosition>;
  /** Never moves backwards. */
  saveCheckpoint(name: string, position: GlobalPosition): Promise<void>;
  /**
   * Master-key rotation: re-wraps every customer key with `newMaster` and records its check value, in one
   * transaction (all keys or none). Afterwards only `newMaster` opens the store. Every other process using the
   * store must be stopped first: they hold the old master key and would wrap new keys with it.
   */
  rewrap(newMaster: Buffer): Promise<{ readonly rewrapped: number }>;
  /** One line for the start-up banner: where the keys live (no credentials). */
  readonly description: string;
  close(): Promise<void>;
}
