import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresReadModelStore, type PostgresReadModelStore } from './postgres-read-model-store.js';

/** The PostgreSQL every integration test uses (trust auth); override with CRM_LEDGER_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL =
  process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name per test file / test, so runs never see each other's tables. */
export function freshSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
  } finally {
    await client.end();
  }
}

export function openTestStore(schema: string): Promise<PostgresReadModelStore> {
  return openPostgresReadModelStore({ connectionString: TEST_POSTGRES_URL, schema, poolSize: 4 });
}
