import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { StartupError, isStartupError, type GlobalPosition } from '@crm-ledger/core';
import {
  masterKeyCheck,
  newDataKey,
  unwrapKey,
  wrapKey,
  type CustomerKey,
  type CustomerKeyStore,
  type DestroyResult,
  type GetKeyError,
  type GetOrCreateKeyError,
  type KeyStoreUnavailable,
} from '@crm-ledger/pii';

/** File of the embedded key store in the data directory: apart from the ledger, so keys can be destroyed. */
export const SQLITE_KEY_STORE_FILE = 'keys.db';

const DDL = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customer_keys (
  customer_id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  wrapped BLOB NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS erased_customers (
  customer_id TEXT PRIMARY KEY,
  key_id TEXT,
  destroyed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
`;

interface KeyRow {
  key_id: string;
  wrapped: Buffer;
}

const unavailable = (err: unknown): KeyStoreUnavailable => ({
  type: 'KeyStoreUnavailable',
  message: `key store: ${(err as Error).message}`,
  cause: err,
});

/**
 * The key store on its own SQLite file (`keys.db`). `secure_delete` is on, so a destroyed key's bytes are
 * overwritten with zeros in the file, and every destroy ends with `wal_checkpoint(TRUNCATE)`, so no old copy of
 * the page stays in the write-ahead log either. Writes are `BEGIN IMMEDIATE` transactions: several processes
 * (ingest, CLI) can share the file, and two racing `getOrCreate` end with one key.
 */
export class SqliteKeyStore implements CustomerKeyStore {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly selectKey: Database.Statement<[string], KeyRow>;
  private readonly selectErased: Database.Statement<[string], { destroyed_at: string }>;
  private readonly insertKey: Database.Statement<[string, string, Buffer, string]>;
  private readonly getOrCreateTx: Database.Transaction<
    (customerId: string, now: string) => CustomerKey | { destroyedAt: string }
  >;
  private readonly destroyTx: Database.Transaction<(customerId: string, at: string) => DestroyResult>;

  constructor(
    readonly file: string,
    private master: Buffer,
  ) {
    this.description = `key store SQLite ${file}`;
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    try {
      chmodSync(file, 0o600); // wrapped keys only, but nobody else needs to read them
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('secure_delete = ON');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(DDL);
      const check = masterKeyCheck(master);
      this.db.prepare('INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)').run('master_check', check);
      const stored = this.db
        .prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?')
        .get('master_check');
      if (stored?.value !== check) {
        throw new StartupError(
          'key_store',
          `${file} was created with another master key: set CRM_LEDGER_MASTER_KEY (or master.key) to the one it was created with`,
        );
      }
    } catch (err) {
      this.db.close();
      throw isStartupError(err, 'key_store')
        ? err
        : new StartupError('key_store', `cannot open ${file}: ${(err as Error).message}`);
    }
    this.selectKey = this.db.prepare('SELECT key_id, wrapped FROM customer_keys WHERE customer_id = ?');
    this.selectErased = this.db.prepare('SELECT destroyed_at FROM erased_customers WHERE customer_id = ?');
    this.insertKey = this.db.prepare(
      'INSERT INTO customer_keys (customer_id, key_id, wrapped, created_at) VALUES (?, ?, ?, ?)',
    );
    const deleteKey = this.db.prepare<[string]>('DELETE FROM customer_keys WHERE customer_id = ?');
    const insertTombstone = this.db.prepare<[string, string | null, string]>(
      'INSERT OR IGNORE INTO erased_customers (customer_id, key_id, destroyed_at) VALUES (?, ?, ?)',
    );
    this.getOrCreateTx = this.db.transaction(
      (customerId: string, now: string): CustomerKey | { destroyedAt: string } => {
        const erased = this.selectErased.get(customerId);
        if (erased !== undefined) return { destroyedAt: erased.destroyed_at };
        const row = this.selectKey.get(customerId);
        if (row !== undefined) return this.unwrap(customerId, row);
        const fresh = newDataKey();
        this.insertKey.run(
          customerId,
          fresh.keyId,
          wrapKey(this.master, customerId, fresh.keyId, fresh.key),
          now,
        );
        return { customerId, ...fresh };
      },
    );
    this.destroyTx = this.db.transaction((customerId: string, at: string): DestroyResult => {
      const row = this.selectKey.get(customerId);
      const tombstone = insertTombstone.run(customerId, row?.key_id ?? null, at);
      deleteKey.run(customerId);
      return { alreadyDestroyed: row === undefined && tombstone.changes === 0 };
    });
  }

  private unwrap(customerId: string, row: KeyRow): CustomerKey {
    return {
      customerId,
      keyId: row.key_id,
      key: unwrapKey(this.master, customerId, row.key_id, row.wrapped),
    };
  }

  getOrCreate(customerId: string): Promise<E.Either<GetOrCreateKeyError, CustomerKey>> {
    try {
      const r = this.getOrCreateTx.immediate(customerId, new Date().toISOString());
      return Promise.resolve(
        'destroyedAt' in r
          ? E.left({ type: 'KeyDestroyed', customerId, destroyedAt: r.destroyedAt })
          : E.right(r),
      );
    } catch (err) {
      return Promise.resolve(E.left(unavailable(err)));
    }
  }

  get(customerId: string): Promise<E.Either<GetKeyError, CustomerKey>> {
    try {
      const row = this.selectKey.get(customerId);
      if (row !== undefined) return Promise.resolve(E.right(this.unwrap(customerId, row)));
      const erased = this.selectErased.get(customerId);
      return Promise.resolve(
        E.left(
          erased === undefined
            ? { type: 'KeyNotFound', customerId }
            : { type: 'KeyDestroyed', customerId, destroyedAt: erased.destroyed_at },
        ),
      );
    } catch (err) {
      return Promise.resolve(E.left(unavailable(err)));
    }
  }

  destroy(customerId: string, at: string): Promise<E.Either<KeyStoreUnavailable, DestroyResult>> {
    try {
      const result = this.destroyTx.immediate(customerId, at);
      // Copy the zeroed pages into the file and empty the WAL, so no frame holds the wrapped key any more.
      // A reader of another process can hold the checkpoint back: the next destroy (or close) retries it.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      return Promise.resolve(E.right(result));
    } catch (err) {
      return Promise.resolve(E.left(unavailable(err)));
    }
  }

  rewrap(newMaster: Buffer): Promise<{ readonly rewrapped: number }> {
    const rows = this.db.prepare<[], KeyRow & { customer_id: string }>(
      'SELECT customer_id, key_id, wrapped FROM customer_keys',
    );
    const update = this.db.prepare<[Buffer, string]>(
      'UPDATE customer_keys SET wrapped = ? WHERE customer_id = ?',
    );
    const setCheck = this.db.prepare<[string]>("UPDATE meta SET value = ? WHERE name = 'master_check'");
    const rewrapped = this.db
      .transaction((): number => {
        let n = 0;
        for (const row of rows.all()) {
          const key = unwrapKey(this.master, row.customer_id, row.key_id, row.wrapped);
          update.run(wrapKey(newMaster, row.customer_id, row.key_id, key), row.customer_id);
          key.fill(0);
          n++;
        }
        setCheck.run(masterKeyCheck(newMaster));
        return n;
      })
      .immediate();
    this.master = newMaster;
    // secure_delete zeroed the old wrapped keys' pages; this empties the WAL of the frames that held them
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return Promise.resolve({ rewrapped });
  }

  loadCheckpoint(name: string): Promise<GlobalPosition> {
    const row = this.db
      .prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE name = ?')
      .get(name);
    return Promise.resolve(row?.position ?? 0);
  }

  saveCheckpoint(name: string, position: GlobalPosition): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position)',
      )
      .run(name, position);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
    return Promise.resolve();
  }
}

/** Opens (creating it if needed) the SQLite key store. Throws a `StartupError` ('key_store') on a wrong master key. */
export function openSqliteKeyStore(options: {
  readonly file: string;
  readonly masterKey: Buffer;
}): SqliteKeyStore {
  return new SqliteKeyStore(options.file, options.masterKey);
}
