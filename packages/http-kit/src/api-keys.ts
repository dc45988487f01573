import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What a key may do. `admin` may do everything; `append` writes events; `read` reads views and events. */
export const Scope = z.enum(['append', 'read', 'admin']);
export type Scope = z.infer<typeof Scope>;
export const SCOPES = Scope.options;

/** A stored key: never the key itself, only its SHA-256. */
export const ApiKeyRecord = z.strictObject({
  /** Public identifier, also the key's prefix: safe to log, list and revoke by. */
  id: z.string().regex(/^[a-f0-9]{12}$/),
  name: z.string().min(1).max(100),
  scopes: z.array(Scope).min(1),
  /** Hex SHA-256 of the whole key. */
  hash: z.string().regex(/^[a-f0-9]{64}$/),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/**
 * The key store port: where key records live. Implementations: `fileApiKeyStore` (a JSON file in the
 * data directory) and `memoryApiKeyStore` (tests).
 */
export interface ApiKeyStore {
  list(): Promise<readonly ApiKeyRecord[]>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  add(record: ApiKeyRecord): Promise<void>;
  /** Marks a key revoked; false when no such key. */
  revoke(id: string, at: string): Promise<boolean>;
}

const KEY_FORMAT = /^crml_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** A new random key `crml_<id>_<secret>` (256-bit secret) and the record to store for it. */
export function generateApiKey(
  name: string,
  scopes: readonly Scope[],
  now: string,
): { key: string; record: ApiKeyRecord } {
  const id = randomBytes(6).toString('hex');
  const key = `crml_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, record: { id, name, scopes: [...new Set(scopes)], hash: sha256Hex(key), createdAt: now } };
}

export type AuthFailure =
  { type: 'MissingKey' } | { type: 'UnknownKey' } | { type: 'MissingScope'; scope: Scope; keyId: string };
export type AuthResult = { ok: true; key: ApiKeyRecord } | { ok: false; failure: AuthFailure };

const DUMMY_HASH = Buffer.alloc(32);

/**
 * Checks a presented key: looks the record up by the key's public id, then compares SHA-256 digests with
 * `crypto.timingSafeEqual` (fixed-length digests, so the comparison time says nothing about the key).
 * Unknown, malformed and revoked keys are all `UnknownKey`.
 */
export async function authenticate(
  store: ApiKeyStore,
  presented: string | undefined,
  scope: Scope,
): Promise<AuthResult> {
  if (presented === undefined || presented.length === 0)
    return { ok: false, failure: { type: 'MissingKey' } };
  const m = KEY_FORMAT.exec(presented);
  const record = m === null ? undefined : await store.findById(m[1]!);
  const presentedDigest = createHash('sha256').update(presented, 'utf8').digest();
  const storedDigest = record === undefined ? DUMMY_HASH : Buffer.from(record.hash, 'hex');
  const same = timingSafeEqual(presentedDigest, storedDigest);
  if (record === undefined || !same || record.revokedAt !== undefined)
    return { ok: false, failure: { type: 'UnknownKey' } };
  if (!hasScope(record, scope))
    return { ok: false, failure: { type: 'MissingScope', scope, keyId: record.id } };
  return { ok: true, key: record };
}

export const hasScope = (record: ApiKeyRecord, scope: Scope): boolean =>
  record.scopes.includes('admin') || record.scopes.includes(scope);

/** Keys in memory: for tests. */
export function memoryApiKeyStore(initial: readonly ApiKeyRecord[] = []): ApiKeyStore {
  const keys = new Map(initial.map((k) => [k.id, k]));
  return {
    list: () => Promise.resolve([...keys.values()]),
    findById: (id) => Promise.resolve(keys.get(id)),
    add: (record) => {
      keys.set(record.id, record);
      return Promise.resolve();
    },
    revoke: (id, at) => {
      const k = keys.get(id);
      if (k === undefined) return Promise.resolve(false);
      keys.set(id, { ...k, revokedAt: at });
      return Promise.resolve(true);
    },
  };
}
