import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ProjectionSpec } from '@crm-ledger/core';
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

export const ticketsSpec = (version = 1): ProjectionSpec => ({
  name: 'service',
  version,
  tables: [
    {
      name: 'tickets',
      description: 'One row per ticket',
      primaryKey: ['customer_id', 'ticket_id'],
      columns: [
        { name: 'customer_id', type: 'text', description: 'The customer' },
        { name: 'ticket_id', type: 'text' },
        { name: 'status', type: 'text' },
        { name: 'priority', type: 'text', nullable: true },
        { name: 'replies', type: 'integer' },
        { name: 'first_reply_hours', type: 'real', nullable: true },
      ],
      indexes: [{ name: 'tickets_by_status', columns: ['status'] }],
    },
    {
      name: 'service_totals',
      primaryKey: ['customer_id'],
      columns: [
        { name: 'customer_id', type: 'text' },
        { name: 'open_tickets', type: 'integer' },
      ],
    },
  ],
});
