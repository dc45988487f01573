import * as E from 'fp-ts/lib/Either.js';
import { definitionOf, type RawEnvelope } from '@crm-ledger/events';
import { decryptField, encryptField, fieldKeys, isEncrypted, type FieldKeys } from './field-cipher.js';
import type { CustomerKey, CustomerKeyStore, KeyDestroyed, KeyStoreUnavailable } from './key-store.js';

/** A personal field holds an `enc:v1:` value that is not this customer's ciphertext for this event and field. */
export interface ForeignCiphertext {
  readonly type: 'ForeignCiphertext';
  readonly index: number;
  readonly field: string;
}

export type EncryptError = KeyDestroyed | KeyStoreUnavailable | ForeignCiphertext;

/** The personal fields (by the catalogue) an event carries: those present in its data. */
export function personalFieldsOf(event: RawEnvelope): readonly string[] {
  const pii = definitionOf(event.type)?.pii ?? [];
  if (pii.length === 0 || typeof event.data !== 'object' || event.data === null) return [];
  const data = event.data as Record<string, unknown>;
  return pii.filter((f) => data[f] !== undefined);
}

/** An event as a reader that may show personal data sees it. */
export interface Decrypted {
  /** The event with its personal fields in plaintext, or `null` where the key is gone. */
  readonly event: RawEnvelope;
  /** True when the customer was erased: every personal field reads as null. */
  readonly erased: boolean;
}

type KeyState =
  // The field keys are derived (HKDF) when first needed: `isErased`, asked on every append without personal
  // fields, never needs them.
  | { readonly kind: 'key'; readonly key: CustomerKey; keys?: FieldKeys }
  | { readonly kind: 'none' }
  | { readonly kind: 'erased' };

/**
 * Encrypts and decrypts the personal fields of events with their customer's key (crypto-shredding). Writers
 * call `encrypt` (through `encryptingEventStore`); readers that must show personal data (the 360 answer,
 * `crm-ledger export`) call `reader().decrypt` at the edge. Projections and the Kafka relay never see
 * plaintext: they read the store, which holds ciphertext.
 */
export class PiiVault {
  constructor(readonly keys: CustomerKeyStore) {}

  /**
   * Encrypts the personal fields of one customer's events (plaintext validated by the caller before). A value
   * already in `enc:v1:` form is kept only if it is this customer's ciphertext for this event and field (an
   * export re-imported with `--keep-ciphertext`); otherwise `ForeignCiphertext`. Events without personal
   * fields are returned as they are, and need no key.
   */
  async encrypt(
    customerId: string,
    events: readonly RawEnvelope[],
  ): Promise<E.Either<EncryptError, RawEnvelope[]>> {
    const fields = events.map(personalFieldsOf);
    if (fields.every((f) => f.length === 0)) return E.right([...events]);
    const key = await this.keys.getOrCreate(customerId);
    if (E.isLeft(key)) return key;
    const keys = fieldKeys(key.right);
    const out: RawEnvelope[] = [];
    for (const [index, event] of events.entries()) {
      const present = fields[index]!;
      if (present.length === 0) {
        out.push(event);
        continue;
      }
      const data = { ...(event.data as Record<string, unknown>) };
      for (const field of present) {
        const value = data[field];
        if (isEncrypted(value)) {
          if (decryptField(keys, event.eventId, field, value) === undefined) {
            return E.left({ type: 'ForeignCiphertext', index, field });
          }
          continue;
        }
        data[field] = encryptField(keys, event.eventId, field, value);
      }
      out.push({ ...event, data });
    }
    return E.right(out);
  }

  /** Destroys the customer's key: every personal field of theirs reads as null from now on. Idempotent. */
  erase(customerId: string, at: string) {
    return this.keys.destroy(customerId, at);
  }

  /**
   * A reader for one answer or one export: it remembers each customer's key state (at most `cacheSize`
   * customers) so a long export does not ask the key store for every event.
   */
  reader(cacheSize = 10_000): PiiReader {
    return new PiiReader(this.keys, cacheSize);
  }
}

export class PiiReader {
  private readonly cache = new Map<string, KeyState>();

  constructor(
    private readonly keys: CustomerKeyStore,
    private readonly cacheSize: number,
  ) {}

  private async stateOf(customerId: string): Promise<E.Either<KeyStoreUnavailable, KeyState>> {
    const cached = this.cache.get(customerId);
    if (cached !== undefined) return E.right(cached);
    const key = await this.keys.get(customerId);
    let state: KeyState;
    if (E.isRight(key)) state = { kind: 'key', key: key.right };
    else if (key.left.type === 'KeyStoreUnavailable') return E.left(key.left);
    else state = { kind: key.left.type === 'KeyDestroyed' ? 'erased' : 'none' };
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(customerId, state);
    return E.right(state);
  }

  /** Whether the customer was erased (key destroyed). */
  async isErased(customerId: string): Promise<E.Either<KeyStoreUnavailable, boolean>> {
    const state = await this.stateOf(customerId);
    return E.isLeft(state) ? state : E.right(state.right.kind === 'erased');
  }

  /**
   * The event with its personal fields decrypted; `null` where the key is gone or the value does not decrypt.
   * For an erased customer every personal field is null, plaintext of events stored before encryption existed
   * included.
   */
  async decrypt(event: RawEnvelope): Promise<E.Either<KeyStoreUnavailable, Decrypted>> {
    const present = personalFieldsOf(event);
    if (present.length === 0) return E.right({ event, erased: false });
    const state = await this.stateOf(event.customerId);
    if (E.isLeft(state)) return state;
    const data = { ...(event.data as Record<string, unknown>) };
    const s = state.right;
    for (const field of present) {
      const value = data[field];
      if (s.kind === 'erased') data[field] = null;
      else if (!isEncrypted(value)) continue;
      else if (s.kind === 'none') data[field] = null;
      else
        data[field] = decryptField((s.keys ??= fieldKeys(s.key)), event.eventId, field, value)?.value ?? null;
    }
    return E.right({ event: { ...event, data }, erased: s.kind === 'erased' });
  }
}
