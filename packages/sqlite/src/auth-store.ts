import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  ApiKeyRecord,
  Scope,
  type ApiKeyStore,
  type AuthStore,
  type ContactAccessLog,
} from '@crm-ledger/http-kit';

const LegacyKeyFile = z.object({
  version: z.literal(1),
  keys: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      scopes: z.array(Scope),
      hash: z.string(),
      createdAt: z.string(),
      revokedAt: z.string().optional(),
    }),
  ),
});

interface KeyRow {
  id: string;
  name: string;
  scopes: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  expires_at: string | null;
  last_used_at: string | null;
}

const recordOf = (r: KeyRow): ApiKeyRecord =>
  ApiKeyRecord.parse({
    id: r.id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as unknown,
    hash: r.hash,
    createdAt: r.created_at,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.expires_at === null ? {} : { expiresAt: r.expires_at }),
    ...(r.last_used_at === null ? {} : { lastUsedAt: r.last_used_at }),
  });

/** Creates `file` with mode 0600 before SQLite opens it (its -wal and -shm files take the same mode). */
function privateFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** The port is asynchronous: a synchronous failure (a bad record, a busy file) becomes a rejection. */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** How often one process records a key's last use (a write per request would serialize reads on the file). */
const LAST_USED_EVERY_MS = 60_000;

/**
 * API keys (SHA-256 hashes only) and the contact access log in one SQLite file (`<dataDir>/auth.sqlite`, mode
 * 0600, WAL). Every process of a deployment on the host opens the same file; each change is one transaction
 * (so concurrent `keys create` and `keys revoke` never lose each other's write, as a read-modify-write of a JSON
 * file did), and every authentication reads the row, so a revocation is effective everywhere at once.
 * On first open, keys of a legacy `api-keys.json` beside it are imported in one transaction and the JSON file is
 * renamed `api-keys.json.migrated`. The access log refuses UPDATE and DELETE (triggers).
 */
export function openSqliteAuthStore(file: string): AuthStore {
  privateFile(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      scopes TEXT NOT NULL,
      hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      revoked_at TEXT,
      expires_at TEXT,
      last_used_at TEXT
    );
    CREATE TABLE IF NOT EXISTS contact_access_log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      key_id TEXT NOT NULL,
      customer_id TEXT NOT NULL,
      fields TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS contact_access_log_customer ON contact_access_log (customer_id, seq);
    CREATE TRIGGER IF NOT EXISTS contact_access_log_no_update BEFORE UPDATE ON contact_access_log
      BEGIN SELECT RAISE(ABORT, 'the contact access log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS contact_access_log_no_delete BEFORE DELETE ON contact_access_log
      BEGIN SELECT RAISE(ABORT, 'the contact access log is append-only'); END;
  `);
  for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);

  const insert = db.prepare(
    `INSERT INTO api_keys (id, name, scopes, hash, created_at, revoked_at, expires_at, last_used_at)
     VALUES (@id, @name, @scopes, @hash, @created_at, @revoked_at, @expires_at, @last_used_at)`,
  );
  const insertRecord = (r: ApiKeyRecord): void => {
    insert.run({
      id: r.id,
      name: r.name,
      scopes: JSON.stringify(r.scopes),
      hash: r.hash,
      created_at: r.createdAt,
      revoked_at: r.revokedAt ?? null,
      expires_at: r.expiresAt ?? null,
      last_used_at: r.lastUsedAt ?? null,
    });
  };
  migrateLegacyFile(db, path.join(path.dirname(file), 'api-keys.json'), insertRecord);

  const all = db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
  const byId = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?');
  const revoke = db.prepare<[string, string]>(
    'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
  );
  const expire = db.prepare<[string, string]>(
    'UPDATE api_keys SET expires_at = ? WHERE id = ? AND revoked_at IS NULL',
  );
  const used = db.prepare<[string, string]>('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
  const log = db.prepare<[string, string, string, string]>(
    'INSERT INTO contact_access_log (at, key_id, customer_id, fields) VALUES (?, ?, ?, ?)',
  );
  const logAll = db.prepare<[], { at: string; key_id: string; customer_id: string; fields: string }>(
    'SELECT at, key_id, customer_id, fields FROM contact_access_log ORDER BY seq',
  );
  const logOf = db.prepare<[string], { at: string; key_id: string; customer_id: string; fields: string }>(
    'SELECT at, key_id, customer_id, fields FROM contact_access_log WHERE customer_id = ? ORDER BY seq',
  );
  // immediate: the write lock is taken first, so the check and both writes see one state of the file
  const rotateTx = db.transaction((id: string, replacement: ApiKeyRecord, oldExpiresAt: string): boolean => {
    if (expire.run(oldExpiresAt, id).changes === 0) return false;
    insertRecord(replacement);
    return true;
  });
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM api_keys');
  const addIfEmptyTx = db.transaction((record: ApiKeyRecord): boolean => {
    if (count.get()!.n > 0) return false;
    insertRecord(record);
    return true;
  });
  const lastMarked = new Map<string, number>();

  const keys: ApiKeyStore = {
    list: () => settled(() => all.all().map(recordOf)),
    findById: (id) =>
      settled(() => {
        const row = byId.get(id);
        return row === undefined ? undefined : recordOf(row);
      }),
    add: (record) => settled(() => insertRecord(ApiKeyRecord.parse(record))),
    addIfEmpty: (record) => settled(() => addIfEmptyTx.immediate(ApiKeyRecord.parse(record))),
    revoke: (id, at) => settled(() => revoke.run(at, id).changes > 0),
    markUsed: (id, at) => {
      const now = Date.now();
      if ((lastMarked.get(id) ?? -Infinity) + LAST_USED_EVERY_MS > now) return Promise.resolve();
      lastMarked.set(id, now);
      try {
        used.run(at, id);
      } catch {
        // best effort: the file may be busy with a long write; the next minute records it
      }
      return Promise.resolve();
    },
    rotate: (id, replacement, oldExpiresAt) =>
      settled(() => rotateTx.immediate(id, ApiKeyRecord.parse(replacement), oldExpiresAt)),
  };
  const accessLog: ContactAccessLog = {
    record: (e) => settled(() => void log.run(e.at, e.keyId, e.customerId, JSON.stringify(e.fields))),
    list: (options) =>
      settled(() =>
        (options?.customerId === undefined ? logAll.all() : logOf.all(options.customerId)).map((r) => ({
          at: r.at,
          keyId: r.key_id,
          customerId: r.customer_id,
          fields: JSON.parse(r.fields) as string[],
        })),
      ),
  };
  return {
    keys,
    accessLog,
    description: `SQLite ${file}`,
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** Imports a legacy `api-keys.json` (hashes only) once, in one transaction, then renames it aside. */
function migrateLegacyFile(
  db: Database.Database,
  legacy: string,
  insertRecord: (r: ApiKeyRecord) => void,
): void {
  let text: string;
  try {
    text = readFileSync(legacy, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // none, or another process migrated it
    throw e;
  }
  const parsed = LegacyKeyFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${legacy} is not a valid key file: ${parsed.error.message}`);
  db.transaction(() => {
    const known = db.prepare<[string], { id: string }>('SELECT id FROM api_keys WHERE id = ?');
    for (const k of parsed.data.keys) if (known.get(k.id) === undefined) insertRecord(ApiKeyRecord.parse(k));
  }).immediate();
  try {
    renameSync(legacy, `${legacy}.migrated`);
    chmodSync(`${legacy}.migrated`, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
