import * as E from 'fp-ts/lib/Either.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * What a key may do (docs/security.md):
 * - `append` writes events (not `CustomerErased`);
 * - `read` reads views, aggregates and timelines: no personal data;
 * - `contact` adds a customer's contact details (name, e-mail, phone) to the 360, each read recorded in the
 *   access log;
 * - `erase` may append `CustomerErased` (the right to erasure: irreversible);
 * - `admin` may do everything.
 * A job gets the scopes it needs: the dashboard `read`, a shop backend `append`, a support desk `read,contact`.
 */
export const Scope = z.enum(['append', 'read', 'contact', 'erase', 'admin']);
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
  /** After this instant the key is refused (as revoked). */
  expiresAt: z.string().optional(),
  /** Last successful authentication, recorded at most once a minute per key and process. */
  lastUsedAt: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/**
 * The key store port: where key records live. Implementations: `openSqliteAuthStore` in @crm-ledger/sqlite (a table in
 * `<dataDir>/auth.sqlite`, shared by every process of the host), `openPostgresAuthStore` in @crm-ledger/postgres
 * (a table in a PostgreSQL schema, shared by every process of every host), each change one transaction, and
 * `memoryApiKeyStore` (tests). Every lookup reads the store, so a revocation is effective in every process at
 * its next request.
 */
export interface ApiKeyStore {
  list(): Promise<readonly ApiKeyRecord[]>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  add(record: ApiKeyRecord): Promise<void>;
  /**
   * Stores `record` only when no key at all is stored, atomically (processes starting at once on several hosts
   * create one first admin key, not one each). True when stored.
   */
  addIfEmpty(record: ApiKeyRecord): Promise<boolean>;
  /** Marks an active key revoked; false when no such active key. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Records a successful use (best effort: a failure to record is no reason to refuse the request). */
  markUsed(id: string, at: string): Promise<void>;
  /**
   * Rotation, atomically: stores `replacement` (same name and scopes, a new secret) and makes the active key
   * `id` expire at `oldExpiresAt` (a grace period for clients to switch; `at` = now ends it at once).
   * False when `id` is not an active key (nothing is stored then).
   */
  rotate(id: string, replacement: ApiKeyRecord, oldExpiresAt: string): Promise<boolean>;
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
  | { type: 'MissingKey' }
  | { type: 'UnknownKey' }
  | { type: 'MissingScope'; scope: Scope | readonly Scope[]; keyId: string };
/** The key's record, or why the request is refused. */
export type AuthResult = E.Either<AuthFailure, ApiKeyRecord>;

const DUMMY_HASH = Buffer.alloc(32);

/**
 * Checks a presented key: looks the record up by the key's public id, then compares SHA-256 digests with
 * `crypto.timingSafeEqual` (fixed-length digests, so the comparison time says nothing about the key).
 * Unknown, malformed, revoked and expired keys are all `UnknownKey`. A list of scopes lets through a key holding
 * any of them.
 */
export async function authenticate(
  store: ApiKeyStore,
  presented: string | undefined,
  scope: Scope | readonly Scope[],
  now: string = new Date().toISOString(),
): Promise<AuthResult> {
  if (presented === undefined || presented.length === 0) return E.left({ type: 'MissingKey' });
  const m = KEY_FORMAT.exec(presented);
  const record = m === null ? undefined : await store.findById(m[1]!);
  const presentedDigest = createHash('sha256').update(presented, 'utf8').digest();
  const storedDigest = record === undefined ? DUMMY_HASH : Buffer.from(record.hash, 'hex');
  const same = timingSafeEqual(presentedDigest, storedDigest);
  if (record === undefined || !same || !isActive(record, now)) return E.left({ type: 'UnknownKey' });
  const wanted: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
  if (!wanted.some((s) => hasScope(record, s)))
    return E.left({ type: 'MissingScope', scope, keyId: record.id });
  return E.right(record);
}

export const hasScope = (record: Pick<ApiKeyRecord, 'scopes'>, scope: Scope): boolean =>
  record.scopes.includes('admin') || record.scopes.includes(scope);

/** Not revoked and not expired at `now`. */
export const isActive = (record: ApiKeyRecord, now: string): boolean =>
  record.revokedAt === undefined &&
  (record.expiresAt === undefined || Date.parse(record.expiresAt) > Date.parse(now));

/** A replacement for `old`: a new id and secret, the same name and scopes. */
export function rotatedKey(old: ApiKeyRecord, now: string): { key: string; record: ApiKeyRecord } {
  return generateApiKey(old.name, old.scopes, now);
}

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
    addIfEmpty: (record) => {
      if (keys.size > 0) return Promise.resolve(false);
      keys.set(record.id, record);
      return Promise.resolve(true);
    },
    revoke: (id, at) => {
      const k = keys.get(id);
      if (k === undefined) return Promise.resolve(false);
      keys.set(id, { ...k, revokedAt: at });
      return Promise.resolve(true);
    },
    markUsed: (id, at) => {
      const k = keys.get(id);
      if (k !== undefined) keys.set(id, { ...k, lastUsedAt: at });
      return Promise.resolve();
    },
    rotate: (id, replacement, oldExpiresAt) => {
      const k = keys.get(id);
      if (k === undefined || k.revokedAt !== undefined) return Promise.resolve(false);
      keys.set(id, { ...k, expiresAt: oldExpiresAt });
      keys.set(replacement.id, replacement);
      return Promise.resolve(true);
    },
  };
}
