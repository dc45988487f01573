import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import { resilientPool } from './read-model/connection.js';
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

export interface PostgresKeyStoreOptions {
  readonly connectionString: string;
  /** Schema of the key store, apart from the read models' (default `crm_ledger_keys`). */
  readonly schema: string;
  readonly masterKey: Buffer;
  readonly poolSize?: number;
}

const unavailable = (err: unknown): KeyStoreUnavailable => ({
  type: 'KeyStoreUnavailable',
  message: `key store: ${(err as Error).message}`,
  cause: err,
});

interface KeyRow {
  key_id: string;
  wrapped: Buffer;
}

/**
 * The key store on PostgreSQL, in a schema of its own (`customer_keys`, `erased_customers`, `checkpoints`,
 * `meta`), for production deployments where several processes share the keys. A destroyed key's row is
 * deleted in the same transaction that writes its tombstone. PostgreSQL frees the row's bytes at the next
 * VACUUM of the table (MVCC); until then the wrapped key is still useless without the master key, which never
 * reaches PostgreSQL (docs/privacy.md).
 */
export class PostgresKeyStore implements CustomerKeyStore {
  readonly description: string;
  private readonly t: (table: string) => string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private master: Buffer,
  ) {
    this.description = `key store PostgreSQL schema ${schema}`;
    this.t = (table) => `"${schema}"."${table}"`;
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`crm-ledger keys ${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t('meta')} (name text PRIMARY KEY, value text NOT NULL)`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t('customer_keys')} (customer_id text PRIMARY KEY, key_id text NOT NULL,
         wrapped bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t('erased_customers')} (customer_id text PRIMARY KEY, key_id text,
         destroyed_at text NOT NULL)`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.t('checkpoints')} (name text PRIMARY KEY, position bigint NOT NULL)`,
      );
      const check = masterKeyCheck(this.master);
      await client.query(
        `INSERT INTO ${this.t('meta')} (name, value) VALUES ('master_check', $1) ON CONFLICT DO NOTHING`,
        [check],
      );
      const { rows } = await client.query<{ value: string }>(
        `SELECT value FROM ${this.t('meta')} WHERE name = 'master_check'`,
      );
      await client.query('COMMIT');
      if (rows[0]?.value !== check) {
        throw new StartupError(
          'key_store',
          `key store schema ${this.schema} was created with another master key: set CRM_LEDGER_MASTER_KEY to the one it was created with`,
        );
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw isStartupError(err, 'key_store')
        ? err
        : new StartupError('key_store', `key store schema ${this.schema}: ${(err as Error).message}`);
    } finally {
      client.release();
    }
  }

  private unwrap(customerId: string, row: KeyRow): CustomerKey {
    return {
      customerId,
      keyId: row.key_id,
      key: unwrapKey(this.master, customerId, row.key_id, row.wrapped),
    };
  }

  async getOrCreate(customerId: string): Promise<E.Either<GetOrCreateKeyError, CustomerKey>> {
    try {
      const existing = await this.get(customerId);
      if (E.isRight(existing)) return existing;
      if (existing.left.type !== 'KeyNotFound') return E.left(existing.left);
      const fresh = newDataKey();
      // Inserted only if no key and no tombstone exist; a racing creator wins and its key is read back.
      await this.pool.query(
        `INSERT INTO ${this.t('customer_keys')} (customer_id, key_id, wrapped)
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM ${this.t('erased_customers')} WHERE customer_id = $1)
         ON CONFLICT (customer_id) DO NOTHING`,
        [customerId, fresh.keyId, wrapKey(this.master, customerId, fresh.keyId, fresh.key)],
      );
      const after = await this.get(customerId);
      if (E.isRight(after)) return after;
      return after.left.type === 'KeyNotFound'
        ? E.left(unavailable(new Error('key vanished while created')))
        : E.left(after.left);
    } catch (err) {
      return E.left(unavailable(err));
    }
  }

  async get(customerId: string): Promise<E.Either<GetKeyError, CustomerKey>> {
    try {
      const { rows } = await this.pool.query<KeyRow & { destroyed_at: string | null }>(
        `SELECT k.key_id, k.wrapped, e.destroyed_at FROM (SELECT $1::text AS customer_id) c
         LEFT JOIN ${this.t('customer_keys')} k USING (customer_id)
         LEFT JOIN ${this.t('erased_customers')} e USING (customer_id)`,
        [customerId],
      );
      const row = rows[0];
      if (row?.destroyed_at != null)
        return E.left({ type: 'KeyDestroyed', customerId, destroyedAt: row.destroyed_at });
      if (row?.key_id == null) return E.left({ type: 'KeyNotFound', customerId });
      return E.right(this.unwrap(customerId, row));
    } catch (err) {
      return E.left(unavailable(err));
    }
  }

  async destroy(customerId: string, at: string): Promise<E.Either<KeyStoreUnavailable, DestroyResult>> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      const deleted = await client.query<{ key_id: string }>(
        `DELETE FROM ${this.t('customer_keys')} WHERE customer_id = $1 RETURNING key_id`,
        [customerId],
      );
      const tomb = await client.query(
        `INSERT INTO ${this.t('erased_customers')} (customer_id, key_id, destroyed_at) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO NOTHING`,
        [customerId, deleted.rows[0]?.key_id ?? null, at],
      );
      await client.query('COMMIT');
      return E.right({ alreadyDestroyed: deleted.rowCount === 0 && tomb.rowCount === 0 });
    } catch (err) {
      await client?.query('ROLLBACK').catch(() => undefined);
      return E.left(unavailable(err));
    } finally {
      client?.release();
    }
  }

  async rewrap(newMaster: Buffer): Promise<{ readonly rewrapped: number }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`crm-ledger keys ${this.schema}`]);
      const { rows } = await client.query<KeyRow & { customer_id: string }>(
        `SELECT customer_id, key_id, wrapped FROM ${this.t('customer_keys')} FOR UPDATE`,
      );
      for (const row of rows) {
        const key = unwrapKey(this.master, row.customer_id, row.key_id, row.wrapped);
        await client.query(`UPDATE ${this.t('customer_keys')} SET wrapped = $1 WHERE customer_id = $2`, [
          wrapKey(newMaster, row.customer_id, row.key_id, key),
          row.customer_id,
        ]);
        key.fill(0);
      }
      await client.query(`UPDATE ${this.t('meta')} SET value = $1 WHERE name = 'master_check'`, [
        masterKeyCheck(newMaster),
      ]);
      await client.query('COMMIT');
      this.master = newMaster;
      return { rewrapped: rows.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async loadCheckpoint(name: string): Promise<GlobalPosition> {
    const { rows } = await this.pool.query<{ position: string }>(
      `SELECT position FROM ${this.t('checkpoints')} WHERE name = $1`,
      [name],
    );
    return rows[0] === undefined ? 0 : Number(rows[0].position);
  }

  async saveCheckpoint(name: string, position: GlobalPosition): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.t('checkpoints')} AS c (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = GREATEST(c.position, EXCLUDED.position)`,
      [name, position],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Opens the PostgreSQL key store, creating its schema and tables. Throws a `StartupError` ('key_store') on a wrong master key. */
export async function openPostgresKeyStore(options: PostgresKeyStoreOptions): Promise<PostgresKeyStore> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new StartupError(
      'key_store',
      `key store schema must be a-z, 0-9 and _, starting with a letter, got '${options.schema}'`,
    );
  }
  // The ledger's failure detection (keepalives, timeouts) and an 'error' handler on the pool and on every
  // connection: a connection killed while idle must not end the process (the next query reports it).
  const pool = resilientPool({ connectionString: options.connectionString, max: options.poolSize ?? 4 });
  const store = new PostgresKeyStore(pool, options.schema, options.masterKey);
  try {
    await store.migrate();
  } catch (err) {
    await pool.end();
    throw err;
  }
  return store;
}
