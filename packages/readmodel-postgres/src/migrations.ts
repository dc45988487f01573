import { q, qq } from './identifiers.js';

/**
 * The adapter's own tables, versioned: each migration runs once per schema, in order, in the transaction
 * that records it (PostgreSQL DDL is transactional), under the schema's DDL advisory lock so several
 * processes starting together do not race. Projection tables are not migrated: a projection whose
 * tables change bumps its spec version and is rebuilt (shadow tables, swapped atomically).
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: (schema: string) => string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'projection registry: spec, version and checkpoint of the live and shadow tables',
    sql: (s) => `
      CREATE TABLE ${qq(s, '_projections')} (
        name              text    PRIMARY KEY,
        version           integer NOT NULL,
        checkpoint        bigint  NOT NULL DEFAULT 0,
        spec              jsonb   NOT NULL,
        shadow_version    integer,
        shadow_checkpoint bigint,
        shadow_spec       jsonb,
        updated_at        timestamptz NOT NULL DEFAULT now()
      );
      COMMENT ON TABLE ${qq(s, '_projections')} IS
        'crm-ledger: one row per projection; checkpoint = global position of the last event reflected in its tables';
    `,
  },
  {
    id: 2,
    name: 'checkpoints of global-log consumers whose effects live elsewhere (the Kafka relay, exporters)',
    sql: (s) => `
      CREATE TABLE ${qq(s, '_checkpoints')} (
        name       text   PRIMARY KEY,
        position   bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

export function migrationsTableSql(schema: string): string {
  return `
    CREATE SCHEMA IF NOT EXISTS ${q(schema)};
    CREATE TABLE IF NOT EXISTS ${qq(schema, '_migrations')} (
      id         integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
  `;
}
