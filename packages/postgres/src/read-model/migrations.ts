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
  {
    id: 3,
    name: 'the SQL analysts write runs on both stores: readmodel_projections as in SQLite, julianday() for date arithmetic',
    // Projection tables now hold times as timestamptz and flags as boolean: the projections' spec versions
    // moved (3), so `ensureProjection` reports a version change and the projector rebuilds each view into
    // shadow tables of the new types, serving the old ones until the swap. Nothing to alter here.
    sql: (s) => `
      CREATE VIEW ${qq(s, 'readmodel_projections')} AS
        SELECT name, text 'live' AS target, version, checkpoint, spec::text AS spec FROM ${qq(s, '_projections')}
        UNION ALL
        SELECT name, text 'shadow', shadow_version, shadow_checkpoint, shadow_spec::text
          FROM ${qq(s, '_projections')} WHERE shadow_version IS NOT NULL;
      COMMENT ON VIEW ${qq(s, 'readmodel_projections')} IS
        'crm-ledger: each view''s checkpoint and spec version, live and shadow, as the SQLite read model names them';
      CREATE FUNCTION ${qq(s, 'julianday')}(t timestamptz) RETURNS double precision
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT CAST(extract(epoch FROM t) AS double precision) / 86400.0 + 2440587.5 $$;
      CREATE FUNCTION ${qq(s, 'julianday')}(t text) RETURNS double precision
        LANGUAGE sql STABLE STRICT PARALLEL SAFE
        AS $$ SELECT ${qq(s, 'julianday')}(CAST(t AS timestamptz)) $$;
      COMMENT ON FUNCTION ${qq(s, 'julianday')}(timestamptz) IS
        'crm-ledger: the Julian day number of an instant, as SQLite''s julianday(): days between two times are julianday(b) - julianday(a)';
    `,
  },
  {
    id: 4,
    name: 'Kafka mode of the projector: the partition offsets the view rows cover, and the history of every batch applied',
    // Written in the transaction of the rows they cover (applyPartitionBatch): a projector instance resumes a
    // partition from here, never from the broker's committed offsets. The history is the proof that no batch
    // was applied twice: per partition, each row's from_offset is the previous row's to_offset.
    sql: (s) => `
      CREATE TABLE ${qq(s, '_partition_offsets')} (
        group_id    text    NOT NULL,
        topic       text    NOT NULL,
        partition   integer NOT NULL,
        next_offset bigint  NOT NULL,
        position    bigint  NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      );
      COMMENT ON TABLE ${qq(s, '_partition_offsets')} IS
        'crm-ledger (Kafka mode): per consumer group and partition, the next offset to apply and the global position of the last event applied';
      CREATE TABLE ${qq(s, '_partition_offset_history')} (
        id          bigserial PRIMARY KEY,
        group_id    text    NOT NULL,
        topic       text    NOT NULL,
        partition   integer NOT NULL,
        from_offset bigint  NOT NULL,
        to_offset   bigint  NOT NULL,
        position    bigint  NOT NULL,
        events      integer NOT NULL,
        instance    text    NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now(),
        CHECK (to_offset > from_offset)
      );
      CREATE INDEX "_partition_offset_history_by_partition"
        ON ${qq(s, '_partition_offset_history')} (group_id, topic, partition, from_offset);
      COMMENT ON TABLE ${qq(s, '_partition_offset_history')} IS
        'crm-ledger (Kafka mode): one row per applied batch, offsets [from_offset, to_offset), in the batch''s transaction';
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
