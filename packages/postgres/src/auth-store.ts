import type pg from 'pg';
import { StartupError } from '@crm-ledger/core';
import { resilientPool } from './read-model/connection.js';
import { ApiKeyRecord, type ApiKeyStore, type AuthStore, type ContactAccessLog } from '@crm-ledger/http-kit';

export interface PostgresAuthStoreOptions {
  readonly connectionString: string;
  /** Schema of the API keys and the contact access log, apart from the read models' (default `crm_ledger_auth`). */
  readonly schema: string;
  readonly poolSize?: number;
}

interface KeyRow {
  id: string;
  name: string;
  scopes: string[];
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
    scopes: r.scopes,
    hash: r.hash,
    createdAt: r.created_at,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.expires_at === null ? {} : { expiresAt: r.expires_at }),
    ...(r.last_used_at === null ? {} : { lastUsedAt: r.last_used_at }),
  });

/** How often one process records a key's last use (as the SQLite store: a write per request is waste). */
const LAST_USED_EVERY_MS = 60_000;

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * API keys (SHA-256 hashes only) and the contact access log in a PostgreSQL schema of their own (`api_keys`,
 * `contact_access_log`), for a deployment whose ingest and query processes run on several hosts: they all
 * share one set of keys. Each change is one statement or one transaction; every authentication reads the row
 * (no cache), so a revocation committed by any process (or `crm-ledger keys revoke`) is refused by every other
 * process at its next request. The access log refuses UPDATE and DELETE (a trigger), like the SQLite one; times
 * are stored as the ISO-8601 text the port speaks, so both stores answer the same strings.
 */
export async function openPostgresAuthStore(options: PostgresAuthStoreOptions): Promise<AuthStore> {
  const { schema } = options;
  if (!SCHEMA_NAME.test(schema)) {
    throw new StartupError(
      'configuration',
      `auth store schema must be a-z, 0-9 and _, starting with a letter, got '${schema}'`,
    );
  }
  // a connection killed while idle must not end the process (the next query reports it)
  const pool = resilientPool({ connectionString: options.connectionString, max: options.poolSize ?? 4 });
  const t = (table: string): string => `"${schema}"."${table}"`;
  const lock = `crm-ledger auth ${schema}`;

  /** Runs `work` in one transaction holding the schema's advisory lock (migrations, first key). */
  const locked = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };

  try {
    await locked(async (client) => {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${t('api_keys')} (
           id text PRIMARY KEY,
           name text NOT NULL,
           scopes text[] NOT NULL,
           hash text NOT NULL,
           created_at text NOT NULL,
           revoked_at text,
           expires_at text,
           last_used_at text)`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${t('contact_access_log')} (
           seq bigserial PRIMARY KEY,
           at text NOT NULL,
           key_id text NOT NULL,
           customer_id text NOT NULL,
           fields text[] NOT NULL)`,
      );
      await client.query(
        `CREATE INDEX IF NOT EXISTS contact_access_log_customer ON ${t('contact_access_log')} (customer_id, seq)`,
      );
      await client.query(
        `CREATE OR REPLACE FUNCTION "${schema}".contact_access_log_append_only() RETURNS trigger
         LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the contact access log is append-only'; END $$`,
      );
      // per statement: an UPDATE, a DELETE or a TRUNCATE of the log is refused, even one touching no row
      await client.query(
        `CREATE OR REPLACE TRIGGER contact_access_log_append_only
         BEFORE UPDATE OR DELETE OR TRUNCATE ON ${t('contact_access_log')}
         FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".contact_access_log_append_only()`,
      );
    });
  } catch (err) {
    await pool.end();
    throw err;
  }

  const insertSql = `INSERT INTO ${t('api_keys')}
    (id, name, scopes, hash, created_at, revoked_at, expires_at, last_used_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
  const insertParams = (r: ApiKeyRecord): unknown[] => [
    r.id,
    r.name,
    r.scopes,
    r.hash,
    r.createdAt,
    r.revokedAt ?? null,
    r.expiresAt ?? null,
    r.lastUsedAt ?? null,
  ];
  const lastMarked = new Map<string, number>();

  const keys: ApiKeyStore = {
    list: async () =>
      (await pool.query<KeyRow>(`SELECT * FROM ${t('api_keys')} ORDER BY created_at, id`)).rows.map(recordOf),
    findById: async (id) => {
      const { rows } = await pool.query<KeyRow>(`SELECT * FROM ${t('api_keys')} WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : recordOf(rows[0]);
    },
    add: async (record) => {
      await pool.query(insertSql, insertParams(ApiKeyRecord.parse(record)));
    },
    addIfEmpty: (record) => {
      const parsed = ApiKeyRecord.parse(record);
      return locked(async (client) => {
        const { rows } = await client.query<{ any: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM ${t('api_keys')}) AS any`,
        );
        if (rows[0]?.any === true) return false;
        await client.query(insertSql, insertParams(parsed));
        return true;
      });
    },
    revoke: async (id, at) =>
      ((
        await pool.query(`UPDATE ${t('api_keys')} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [
          at,
          id,
        ])
      ).rowCount ?? 0) > 0,
    markUsed: async (id, at) => {
      const now = Date.now();
      if ((lastMarked.get(id) ?? -Infinity) + LAST_USED_EVERY_MS > now) return;
      lastMarked.set(id, now);
      try {
        await pool.query(`UPDATE ${t('api_keys')} SET last_used_at = $1 WHERE id = $2`, [at, id]);
      } catch {
        // best effort: the next minute records it
      }
    },
    rotate: async (id, replacement, oldExpiresAt) => {
      const parsed = ApiKeyRecord.parse(replacement);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // the row lock orders a concurrent revoke before or after the rotation, never between its two writes
        const expired = await client.query(
          `UPDATE ${t('api_keys')} SET expires_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
          [oldExpiresAt, id],
        );
        if ((expired.rowCount ?? 0) === 0) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query(insertSql, insertParams(parsed));
        await client.query('COMMIT');
        return true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };

  interface LogRow {
    at: string;
    key_id: string;
    customer_id: string;
    fields: string[];
  }
  const accessLog: ContactAccessLog = {
    record: async (e) => {
      await pool.query(
        `INSERT INTO ${t('contact_access_log')} (at, key_id, customer_id, fields) VALUES ($1, $2, $3, $4)`,
        [e.at, e.keyId, e.customerId, [...e.fields]],
      );
    },
    list: async (options) => {
      const { rows } =
        options?.customerId === undefined
          ? await pool.query<LogRow>(
              `SELECT at, key_id, customer_id, fields FROM ${t('contact_access_log')} ORDER BY seq`,
            )
          : await pool.query<LogRow>(
              `SELECT at, key_id, customer_id, fields FROM ${t('contact_access_log')}
               WHERE customer_id = $1 ORDER BY seq`,
              [options.customerId],
            );
      return rows.map((r) => ({ at: r.at, keyId: r.key_id, customerId: r.customer_id, fields: r.fields }));
    },
  };

  return {
    keys,
    accessLog,
    description: `PostgreSQL ${withoutPassword(options.connectionString)} schema ${schema}`,
    close: () => pool.end(),
  };
}

/** `postgres://user:password@host/...` -> `postgres://user:***@host/...` */
const withoutPassword = (url: string): string => url.replace(/^([a-z+]+:\/\/[^:/@]+):[^@/]*@/i, '$1:***@');
