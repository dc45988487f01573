import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  POSTGRES_CONNECTION_SETTINGS,
  checkWriteCheckpoint,
  decodeCursor,
  encodeCursor,
  listSortKey,
  pageSize,
  totalSort,
} from '@crm-ledger/core';
import type {
  AggregateQuery,
  CellValue,
  ColumnSpec,
  DialectSql,
  Filter,
  GlobalPosition,
  ListQuery,
  Page,
  ProjectionLock,
  ProjectionSpec,
  ProjectionWrite,
  ReadModelStore,
  Row,
  RowChange,
  Sort,
  TableSpec,
  Target,
} from '@crm-ledger/core';
import { PostgresCheckpointStore } from '../checkpoint-store.js';
import { assertSpec, createTableSql } from './ddl.js';
import { assertIdentifier, q, qq, shadowSchemaOf } from './identifiers.js';
import { MIGRATIONS, migrationsTableSql } from './migrations.js';
import { toPostgresPlaceholders } from './placeholders.js';
import { ProjectionLocks, projectionLockKey } from './projection-locks.js';
import { resilientPool } from './connection.js';
import { Params, afterClause, orderByClause, pick, whereClause } from './query-builder.js';

export interface PostgresReadModelOptions {
  /** e.g. `postgres://user:password@host:5432/db`. Ignored when `pool` is given. */
  readonly connectionString?: string;
  /** A pool to use instead (the store then does not end it on close). */
  readonly pool?: pg.Pool;
  /** The deployment's schema: every projection table lives there, shadow tables in `<schema>__rebuild`. Default `crm_ledger`. */
  readonly schema?: string;
  /** Connections of the pool the store creates. Default 10. */
  readonly poolSize?: number;
  /** `list` returns at most this many rows per page, whatever the caller asks. Default 1000. */
  readonly maxPageSize?: number;
  /**
   * `application_name` of the pool's connections (what `pg_stat_activity` shows): lets an operator or a
   * benchmark tell this store's backends from others'. Default `crm-ledger`. Ignored when `pool` is given.
   */
  readonly applicationName?: string;
  /**
   * A scratch read model (the query API's views of a past cut): `close` drops its schema and shadow schema
   * (every table in them) before ending the pool. Never for the deployment's own schema.
   */
  readonly dropOnClose?: boolean;
}

/** int8 (counts, sums of integers, bigint columns) and numeric (sum/avg) as JS numbers: money fits in 2^53. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const asNumber = (value: string): number => Number(value);
const numberTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? asNumber
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Where one consumer group stands in one partition: the offsets table's row (zeros before its first batch). */
export interface PartitionOffset {
  /** The next offset to apply (the offsets before it are in the view rows). */
  readonly nextOffset: number;
  /** Global position of the last event applied from this partition (0 before any). */
  readonly position: GlobalPosition;
}

/**
 * One batch of one partition (the Kafka mode of the projector): the view rows it changes and the offsets it
 * covers, written by `applyPartitionBatch` in one transaction.
 */
export interface PartitionBatchWrite {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** The stored next offset this batch starts at: another value stored means another writer moved on. */
  readonly fromOffset: number;
  /** The next offset after the batch; equal to `fromOffset` for a write that applies no message (a retry). */
  readonly toOffset: number;
  /** Global position of the last event applied from the partition after this batch. */
  readonly position: GlobalPosition;
  readonly events: number;
  /** Who wrote it (history only). */
  readonly instance: string;
  /** Row changes of the projections' live tables (their `checkpoint` fields are not used). */
  readonly writes: readonly ProjectionWrite[];
  /** Test seam: runs inside the transaction after everything is written, before COMMIT. */
  readonly beforeCommit?: () => Promise<void>;
}

/** The stored offset of a partition is not the one the batch starts at: someone else applied it meanwhile. */
export class PartitionOffsetMoved extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `partition ${topic}[${partition}]: the stored next offset is ${actual}, not ${expected} (another instance applied it): nothing written`,
    );
    this.name = 'PartitionOffsetMoved';
  }
}

export const isPartitionOffsetMoved = (e: unknown): e is PartitionOffsetMoved =>
  e instanceof PartitionOffsetMoved;

interface RegistryRow {
  name: string;
  version: number;
  checkpoint: number;
  spec: ProjectionSpec;
  shadow_version: number | null;
  shadow_checkpoint: number | null;
  shadow_spec: ProjectionSpec | null;
}

/**
 * The read-model store on PostgreSQL. Layout of one deployment (schema `crm_ledger` by default):
 * - `<schema>.<table>`: the live tables, named as in the projection specs (what analysts query);
 * - `<schema>._projections`: spec, version and checkpoint of every projection (live and shadow);
 * - `<schema>._migrations`: the store's own migrations applied;
 * - `<schema>__rebuild.<table>`: shadow tables of rebuilds in progress, moved into `<schema>` by
 *   `completeRebuild` in one transaction (`ALTER TABLE ... SET SCHEMA` carries indexes and constraints).
 * Rows and checkpoint change in one transaction; the projection's registry row is locked `FOR UPDATE`
 * while doing so, so two projector instances writing the same projection serialise and the second one's
 * stale checkpoint is rejected.
 */
export class PostgresReadModelStore implements ReadModelStore {
  readonly dialect = 'postgres' as const;
  readonly schema: string;
  private readonly shadowSchema: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly maxPageSize: number;
  private readonly dropOnClose: boolean;
  /** Spec of each projection's live and shadow tables, by projection name. */
  private readonly registry = new Map<string, { live: ProjectionSpec; shadow?: ProjectionSpec }>();
  private readonly locks: ProjectionLocks;
  /** A scratch store's claim on its schema (`SCRATCH_LOCK`), held from before the schema exists until it is dropped. */
  private scratchLock: ProjectionLock | undefined;

  private constructor(options: PostgresReadModelOptions) {
    this.schema = options.schema ?? 'crm_ledger';
    assertIdentifier(this.schema, 'schema');
    if (this.schema.length > 54) throw new Error(`schema '${this.schema}' must be at most 54 characters`);
    this.shadowSchema = shadowSchemaOf(this.schema);
    this.maxPageSize = options.maxPageSize ?? 1000;
    this.dropOnClose = options.dropOnClose === true;
    if (options.pool !== undefined) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else {
      this.pool = resilientPool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 10,
        types: numberTypes,
        // Times read and written in UTC, whatever the server's default: a date literal in a filter or in free
        // SQL ('2026-01-01') means the same instant here as in SQLite.
        options: `${POSTGRES_CONNECTION_SETTINGS.options} -c TimeZone=UTC`,
        application_name: options.applicationName ?? 'crm-ledger',
      });
      this.ownsPool = true;
    }
    this.locks = new ProjectionLocks(this.pool.options, this.schema);
  }

  /** Connects, runs the store's migrations on the schema, and loads the projection registry. */
  static async open(options: PostgresReadModelOptions): Promise<PostgresReadModelStore> {
    const store = new PostgresReadModelStore(options);
    try {
      if (store.dropOnClose) {
        // claimed before the schema exists: a sweep (sweepScratchSchemas) never takes a schema being created
        store.scratchLock = await store.locks.tryLock(SCRATCH_LOCK);
        if (store.scratchLock === undefined)
          throw new Error(`scratch schema '${store.schema}' is held by another process`);
      }
      await store.migrate();
      await store.loadRegistry();
    } catch (error) {
      await store.locks.close();
      if (store.ownsPool) await store.pool.end();
      throw error;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.ddl(async (c) => {
      await c.query(migrationsTableSql(this.schema));
      const done = await c.query<{ id: number }>(`SELECT id FROM ${qq(this.schema, '_migrations')}`);
      const applied = new Set(done.rows.map((r) => r.id));
      for (const m of MIGRATIONS) {
        if (applied.has(m.id)) continue;
        await c.query(m.sql(this.schema));
        await c.query(`INSERT INTO ${qq(this.schema, '_migrations')} (id, name) VALUES ($1, $2)`, [
          m.id,
          m.name,
        ]);
      }
    });
  }

  private async loadRegistry(): Promise<void> {
    const { rows } = await this.pool.query<RegistryRow>(`SELECT * FROM ${qq(this.schema, '_projections')}`);
    this.registry.clear();
    for (const r of rows) this.remember(r);
  }

  private remember(r: RegistryRow): void {
    this.registry.set(
      r.name,
      r.shadow_spec === null ? { live: r.spec } : { live: r.spec, shadow: r.shadow_spec },
    );
  }

  async ensureProjection(
    spec: ProjectionSpec,
  ): Promise<{ checkpoint: GlobalPosition; versionChanged: boolean }> {
    assertSpec(spec);
    return this.ddl(async (c) => {
      const existing = await this.registryRow(c, spec.name);
      if (existing === undefined) {
        for (const t of spec.tables) await c.query(createTableSql(this.schema, t));
        const { rows } = await c.query<RegistryRow>(
          `INSERT INTO ${qq(this.schema, '_projections')} (name, version, spec) VALUES ($1, $2, $3) RETURNING *`,
          [spec.name, spec.version, JSON.stringify(spec)],
        );
        this.remember(rows[0]!);
        return { checkpoint: 0, versionChanged: false };
      }
      this.remember(existing);
      return { checkpoint: existing.checkpoint, versionChanged: existing.version !== spec.version };
    });
  }

  async checkpoint(projection: string, target: Target = 'live'): Promise<GlobalPosition> {
    const { rows } = await this.pool.query<{ checkpoint: number | null }>(
      `SELECT ${target === 'live' ? 'checkpoint' : 'shadow_checkpoint'} AS checkpoint FROM ${qq(this.schema, '_projections')} WHERE name = $1`,
      [projection],
    );
    return rows[0]?.checkpoint ?? 0;
  }

  async apply(writes: readonly ProjectionWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.transaction(async (c) => {
      for (const w of writes) {
        const target = w.target ?? 'live';
        const row = await this.registryRow(c, w.projection, true);
        if (row === undefined) throw new Error(`apply: unknown projection ${w.projection}`);
        this.remember(row);
        const spec = target === 'live' ? row.spec : row.shadow_spec;
        const stored = target === 'live' ? row.checkpoint : row.shadow_checkpoint;
        if (spec === null || stored === null)
          throw new Error(`apply: no rebuild of ${w.projection} in progress`);
        checkWriteCheckpoint(w, stored);
        const schema = target === 'live' ? this.schema : this.shadowSchema;
        // One statement per write: every table's delete and upsert as data-modifying CTEs, then the checkpoint.
        const parts: string[] = [];
        const values: unknown[] = [];
        for (const [name, changes] of byTable(w.changes))
          tableWrite(schema, tableOf(spec, name), changes, parts, values);
        values.push(w.projection, w.checkpoint);
        await c.query(
          `${parts.length === 0 ? '' : `WITH ${parts.map((p, i) => `w${i} AS (${p})`).join(', ')} `}` +
            `UPDATE ${qq(this.schema, '_projections')} SET ${target === 'live' ? 'checkpoint' : 'shadow_checkpoint'} = $${values.length}, updated_at = now() WHERE name = $${values.length - 1}`,
          values,
        );
      }
    });
  }

  /** Where a consumer group stands in each partition of a topic it has applied something of. */
  async partitionOffsets(group: string, topic: string): Promise<Map<number, PartitionOffset>> {
    const { rows } = await this.pool.query<{ partition: number; next_offset: number; position: number }>(
      `SELECT partition, next_offset, position FROM ${qq(this.schema, '_partition_offsets')} WHERE group_id = $1 AND topic = $2`,
      [group, topic],
    );
    return new Map(
      rows.map((r) => [
        Number(r.partition),
        { nextOffset: Number(r.next_offset), position: Number(r.position) },
      ]),
    );
  }

  /**
   * The Kafka mode's write: the batch's row changes, the partition's new offset and a history row, in ONE
   * transaction, fenced by the stored offset: the partition's offsets row is locked `FOR UPDATE` and must hold
   * `fromOffset`, else `PartitionOffsetMoved` and nothing is written. So two instances that both believe they
   * own a partition (a rebalance, a paused zombie) can never both apply the same offsets. The projections'
   * registry rows are not locked: instances writing different partitions do not wait for each other.
   */
  async applyPartitionBatch(batch: PartitionBatchWrite): Promise<void> {
    if (!Number.isSafeInteger(batch.fromOffset) || batch.toOffset < batch.fromOffset)
      throw new Error(
        `applyPartitionBatch: offsets [${batch.fromOffset}, ${batch.toOffset}) are not a range`,
      );
    for (const w of batch.writes)
      if (this.registry.get(w.projection) === undefined) await this.loadRegistry();
    await this.transaction(async (c) => {
      const offsets = qq(this.schema, '_partition_offsets');
      await c.query(
        `INSERT INTO ${offsets} (group_id, topic, partition, next_offset, position) VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING`,
        [batch.group, batch.topic, batch.partition],
      );
      const { rows } = await c.query<{ next_offset: number }>(
        `SELECT next_offset FROM ${offsets} WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
        [batch.group, batch.topic, batch.partition],
      );
      const stored = Number(rows[0]!.next_offset);
      if (stored !== batch.fromOffset)
        throw new PartitionOffsetMoved(batch.topic, batch.partition, batch.fromOffset, stored);
      for (const w of batch.writes) {
        if ((w.target ?? 'live') !== 'live')
          throw new Error(
            `applyPartitionBatch: ${w.projection} writes shadow tables (a rebuild): not in Kafka mode`,
          );
        const spec = this.registry.get(w.projection)?.live;
        if (spec === undefined) throw new Error(`apply: unknown projection ${w.projection}`);
        // the same one-statement write as apply, without the projection's checkpoint (Kafka mode has none)
        const parts: string[] = [];
        const values: unknown[] = [];
        for (const [name, changes] of byTable(w.changes))
          tableWrite(this.schema, tableOf(spec, name), changes, parts, values);
        if (parts.length > 0)
          await c.query(`WITH ${parts.map((p, i) => `w${i} AS (${p})`).join(', ')} SELECT 1`, values);
      }
      if (batch.toOffset === batch.fromOffset) return;
      await c.query(
        `UPDATE ${offsets} SET next_offset = $4, position = GREATEST(position, $5), updated_at = now() WHERE group_id = $1 AND topic = $2 AND partition = $3`,
        [batch.group, batch.topic, batch.partition, batch.toOffset, batch.position],
      );
      await c.query(
        `INSERT INTO ${qq(this.schema, '_partition_offset_history')} (group_id, topic, partition, from_offset, to_offset, position, events, instance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          batch.group,
          batch.topic,
          batch.partition,
          batch.fromOffset,
          batch.toOffset,
          batch.position,
          batch.events,
          batch.instance,
        ],
      );
      await batch.beforeCommit?.();
    });
  }

  async find(table: string, where: readonly Filter[], target: Target = 'live'): Promise<readonly Row[]> {
    const spec = await this.table(table, target);
    checkFilters(spec, where);
    const params = new Params();
    const schema = target === 'live' ? this.schema : this.shadowSchema;
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT * FROM ${qq(schema, spec.name)} WHERE ${whereClause(where, params)} ORDER BY ${spec.primaryKey.map(q).join(', ')}`,
      params.values,
    );
    return rows.map(toRow);
  }

  async beginRebuild(spec: ProjectionSpec): Promise<void> {
    assertSpec(spec);
    await this.ddl(async (c) => {
      let row = await this.registryRow(c, spec.name, true);
      if (row === undefined) {
        for (const t of spec.tables) await c.query(createTableSql(this.schema, t));
        row = (
          await c.query<RegistryRow>(
            `INSERT INTO ${qq(this.schema, '_projections')} (name, version, spec) VALUES ($1, $2, $3) RETURNING *`,
            [spec.name, spec.version, JSON.stringify(spec)],
          )
        ).rows[0]!;
      }
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(this.shadowSchema)}`);
      for (const t of [...(row.shadow_spec?.tables ?? []), ...spec.tables]) {
        await c.query(`DROP TABLE IF EXISTS ${qq(this.shadowSchema, t.name)}`);
      }
      for (const t of spec.tables) await c.query(createTableSql(this.shadowSchema, t));
      const { rows } = await c.query<RegistryRow>(
        `UPDATE ${qq(this.schema, '_projections')} SET shadow_version = $2, shadow_checkpoint = 0, shadow_spec = $3, updated_at = now() WHERE name = $1 RETURNING *`,
        [spec.name, spec.version, JSON.stringify(spec)],
      );
      this.remember(rows[0]!);
    });
  }

  async rebuildInProgress(projection: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ v: number | null }>(
      `SELECT shadow_version AS v FROM ${qq(this.schema, '_projections')} WHERE name = $1`,
      [projection],
    );
    return rows[0] !== undefined && rows[0].v !== null;
  }

  async completeRebuild(projection: string): Promise<void> {
    await this.ddl(async (c) => {
      const row = await this.registryRow(c, projection, true);
      if (row?.shadow_spec == null)
        throw new Error(`completeRebuild: no rebuild of ${projection} in progress`);
      // Queries reading the old tables finish first (DROP waits for their locks); later ones wait for
      // the commit and then see the new tables: never a half-built view.
      for (const t of row.spec.tables) await c.query(`DROP TABLE IF EXISTS ${qq(this.schema, t.name)}`);
      for (const t of row.shadow_spec.tables) {
        await c.query(`ALTER TABLE ${qq(this.shadowSchema, t.name)} SET SCHEMA ${q(this.schema)}`);
      }
      const { rows } = await c.query<RegistryRow>(
        `UPDATE ${qq(this.schema, '_projections')}
            SET version = shadow_version, checkpoint = shadow_checkpoint, spec = shadow_spec,
                shadow_version = NULL, shadow_checkpoint = NULL, shadow_spec = NULL, updated_at = now()
          WHERE name = $1 RETURNING *`,
        [projection],
      );
      this.remember(rows[0]!);
    });
  }

  async abortRebuild(projection: string): Promise<void> {
    await this.ddl(async (c) => {
      const row = await this.registryRow(c, projection, true);
      if (row?.shadow_spec == null) return;
      for (const t of row.shadow_spec.tables)
        await c.query(`DROP TABLE IF EXISTS ${qq(this.shadowSchema, t.name)}`);
      const { rows } = await c.query<RegistryRow>(
        `UPDATE ${qq(this.schema, '_projections')} SET shadow_version = NULL, shadow_checkpoint = NULL, shadow_spec = NULL, updated_at = now() WHERE name = $1 RETURNING *`,
        [projection],
      );
      this.remember(rows[0]!);
    });
  }

  async get(table: string, key: Row): Promise<Row | undefined> {
    const spec = await this.table(table, 'live');
    const params = new Params();
    const where = spec.primaryKey.map((k) => `${q(k)} = ${params.add(keyValue(spec, key, k))}`).join(' AND ');
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT * FROM ${qq(this.schema, spec.name)} WHERE ${where}`,
      params.values,
    );
    return rows[0] === undefined ? undefined : toRow(rows[0]);
  }

  async list(table: string, query: ListQuery): Promise<Page> {
    const spec = await this.table(table, 'live');
    const where = query.where ?? [];
    checkFilters(spec, where);
    for (const s of query.orderBy ?? []) checkColumn(spec, s.column);
    const sort: Sort[] = totalSort(query.orderBy, spec.primaryKey);
    const sortKey = listSortKey(spec.name, sort);
    // Clamped to 1..maxPageSize, as the SQLite store does.
    const limit = pageSize(query.limit, this.maxPageSize);
    const params = new Params();
    const conditions = [whereClause(where, params)];
    if (query.cursor !== undefined)
      conditions.push(afterClause(sort, decodeCursor(query.cursor, sortKey, sort.length), params));
    const { rows: raw } = await this.pool.query<Record<string, unknown>>(
      `SELECT * FROM ${qq(this.schema, spec.name)} WHERE ${conditions.join(' AND ')} ORDER BY ${orderByClause(sort)} LIMIT ${limit + 1}`,
      params.values,
    );
    const rows = raw.map(toRow);
    if (rows.length <= limit) return { rows };
    const page = rows.slice(0, limit);
    return {
      rows: page,
      nextCursor: encodeCursor(
        sortKey,
        pick(
          page[page.length - 1]!,
          sort.map((s) => s.column),
        ),
      ),
    };
  }

  async aggregate(table: string, query: AggregateQuery): Promise<readonly Row[]> {
    const spec = await this.table(table, 'live');
    const where = query.where ?? [];
    checkFilters(spec, where);
    for (const g of query.groupBy) checkColumn(spec, g);
    const measures = query.measures.map((m) => {
      assertIdentifier(m.as, 'measure name');
      if (m.column === undefined) {
        if (m.fn !== 'count') throw new Error(`aggregate: ${m.fn} needs a column`);
        return `count(*) AS ${q(m.as)}`;
      }
      // Flags are `boolean` here: counted and summed as 1/0, as SQLite does.
      const column =
        columnOf(spec, m.column).type === 'boolean' ? `CAST(${q(m.column)} AS integer)` : q(m.column);
      return `${m.fn}(${column}) AS ${q(m.as)}`;
    });
    const params = new Params();
    const groups = query.groupBy.map(q);
    const select = [...groups, ...measures].join(', ');
    const grouping =
      groups.length === 0
        ? ''
        : ` GROUP BY ${groups.join(', ')} ORDER BY ${query.groupBy.map((g) => `${q(g)} ASC NULLS FIRST`).join(', ')}`;
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT ${select} FROM ${qq(this.schema, spec.name)} WHERE ${whereClause(where, params)}${grouping}`,
      params.values,
    );
    return rows.map(toRow);
  }

  /**
   * Runs the PostgreSQL text in a READ ONLY transaction with `search_path` set to the deployment's schema,
   * so the text names live tables without a schema, as an analyst would in psql.
   */
  async sql(text: DialectSql, params: readonly CellValue[] = []): Promise<readonly Row[]> {
    const { text: sqlText, count } = toPostgresPlaceholders(text.postgres);
    if (count !== params.length)
      throw new Error(`sql: the text has ${count} parameters, ${params.length} given`);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL search_path TO ${q(this.schema)}; SET LOCAL TimeZone TO 'UTC'`);
      const result = await client.query<Record<string, unknown>>(sqlText, [...params]);
      await client.query('COMMIT');
      return result.rows.map(toRow);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** One runner per projection across processes: see `ProjectionLocks` (projection-locks.ts). */
  tryLockProjection(projection: string): Promise<ProjectionLock | undefined> {
    return this.locks.tryLock(projection);
  }

  async close(): Promise<void> {
    // a scratch schema is dropped before its claim is released (a sweep meanwhile finds it held, then gone)
    if (this.dropOnClose)
      await this.ddl(async (c) => {
        await c.query(`DROP SCHEMA IF EXISTS ${q(this.shadowSchema)} CASCADE`);
        await c.query(`DROP SCHEMA IF EXISTS ${q(this.schema)} CASCADE`);
      });
    await this.locks.close();
    if (this.ownsPool) await this.pool.end();
  }

  /** The pool, for the advisory lock of a projector (see `acquireRunnerLock`). */
  get connectionPool(): pg.Pool {
    return this.pool;
  }

  private async table(name: string, target: Target): Promise<TableSpec> {
    const found = this.lookup(name, target);
    if (found !== undefined) return found;
    // Another process may have created or rebuilt it since we loaded the registry.
    await this.loadRegistry();
    const again = this.lookup(name, target);
    if (again === undefined) throw new Error(`unknown ${target} table '${name}'`);
    return again;
  }

  private lookup(name: string, target: Target): TableSpec | undefined {
    for (const entry of this.registry.values()) {
      const spec = target === 'live' ? entry.live : entry.shadow;
      const t = spec?.tables.find((x) => x.name === name);
      if (t !== undefined) return t;
    }
    return undefined;
  }

  private async registryRow(
    c: pg.PoolClient,
    name: string,
    forUpdate = false,
  ): Promise<RegistryRow | undefined> {
    const { rows } = await c.query<RegistryRow>(
      `SELECT * FROM ${qq(this.schema, '_projections')} WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return rows[0];
  }

  private async transaction<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (unanswered(error)) {
        // The client gave up waiting (its query timeout): the query may still be on its way or lost in a network
        // outage, so the connection is in no known state and a ROLLBACK would queue behind an answer that may
        // never come. Drop the connection instead: the server rolls back a transaction whose session ends.
        broken = error;
      } else {
        await client.query('ROLLBACK').catch((e: unknown) => {
          // The connection itself failed (killed, reset): the pool must not hand it out again.
          broken = e instanceof Error ? e : new Error(String(e));
        });
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** A transaction holding the schema's DDL advisory lock: schema changes by several processes serialise. */
  private ddl<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`crm-ledger:ddl:${this.schema}`]);
      return body(c);
    });
  }
}

/**
 * A checkpoint store in the same schema (its table comes with the store's migrations), sharing nothing with
 * the read-model store but the database: opens its own small pool.
 */
export async function openPostgresCheckpointStore(
  options: Omit<PostgresReadModelOptions, 'maxPageSize'>,
): Promise<PostgresCheckpointStore> {
  const store = await PostgresReadModelStore.open({ ...options, poolSize: 1 });
  await store.close();
  const schema = options.schema ?? 'crm_ledger';
  if (options.pool !== undefined) return new PostgresCheckpointStore(options.pool, schema, false);
  const pool = resilientPool({
    connectionString: options.connectionString,
    max: 2,
    application_name: 'crm-ledger',
  });
  return new PostgresCheckpointStore(pool, schema, true);
}

/** The lock a scratch store holds on its schema for as long as it lives (see `sweepScratchSchemas`). */
const SCRATCH_LOCK = '__scratch__';

/** A new scratch schema beside `base` (`<base>__cut_<8 hex>`), for a store opened with `dropOnClose`. */
export function scratchSchemaOf(base: string): string {
  return `${base}__cut_${randomBytes(4).toString('hex')}`;
}

/**
 * Drops the scratch schemas beside `base` (`<base>__cut_<8 hex>`, and their rebuild schemas) whose store is gone:
 * a store opened with `dropOnClose` holds a session advisory lock on its schema from before it creates it until
 * it has dropped it, and PostgreSQL releases that lock when the session ends (the process killed, its network
 * gone: see `ProjectionLocks`), so a schema whose lock can be taken has no owner left. Returns the schemas dropped.
 */
export async function sweepScratchSchemas(options: {
  readonly connectionString: string;
  readonly schema: string;
}): Promise<string[]> {
  assertIdentifier(options.schema, 'schema');
  const client = new pg.Client({
    connectionString: options.connectionString,
    application_name: 'crm-ledger sweep',
  });
  await client.connect();
  const dropped: string[] = [];
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname`,
      [`^${options.schema}__cut_[0-9a-f]{8}$`],
    );
    for (const { name } of rows) {
      const key = projectionLockKey(name, SCRATCH_LOCK);
      const got = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [key],
      );
      if (got.rows[0]?.locked !== true) continue; // its store is alive
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${q(shadowSchemaOf(name))} CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS ${q(name)} CASCADE`);
        dropped.push(name);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
    }
  } finally {
    await client.end();
  }
  return dropped;
}

/** Opens the PostgreSQL read-model store (creating the schema and running migrations if needed). */
export function openPostgresReadModelStore(
  options: PostgresReadModelOptions,
): Promise<PostgresReadModelStore> {
  return PostgresReadModelStore.open(options);
}

/** The changes of a write by table, in the order the tables first appear. */
function byTable(changes: readonly RowChange[]): Map<string, RowChange[]> {
  const out = new Map<string, RowChange[]>();
  for (const ch of changes) {
    const list = out.get(ch.table);
    if (list === undefined) out.set(ch.table, [ch]);
    else list.push(ch);
  }
  return out;
}

/**
 * A primary key as one string, each value normalised by its column's type, so a key given as 1 and as '1'
 * (or a time with and without milliseconds) is the same row, as it is for the database.
 */
function keyOf(types: readonly ColumnSpec['type'][], pk: readonly string[], row: Row): string {
  if (pk.length === 1 && types[0] === 'text') return String(row[pk[0]!] ?? null);
  return JSON.stringify(
    pk.map((col, i) => {
      const v = row[col] ?? null;
      if (v === null) return null;
      switch (types[i]) {
        case 'integer':
        case 'real':
        case 'boolean':
          return Number(v);
        case 'timestamp': {
          const t = Date.parse(String(v));
          return Number.isNaN(t) ? String(v) : t;
        }
        default:
          return String(v);
      }
    }),
  );
}

/** Element type of each column's array parameter. */
const ARRAY_TYPES: Record<ColumnSpec['type'], string> = {
  text: 'text[]',
  integer: 'bigint[]',
  real: 'double precision[]',
  timestamp: 'timestamptz[]',
  boolean: 'boolean[]',
};

/** What a table's writes need, computed once per table spec. */
interface TableShape {
  /** The table's column names, to check rows against. */
  readonly columns: ReadonlySet<string>;
  /** Type of each primary key column, in key order. */
  readonly keyTypes: readonly ColumnSpec['type'][];
  /** `ON CONFLICT (...) DO UPDATE SET ...` of the upsert. */
  readonly onConflict: string;
}

/** By spec object: the registry's specs are parsed again on every apply, the cost of a miss is a few joins. */
const shapes = new WeakMap<TableSpec, TableShape>();

function shapeOf(table: TableSpec): TableShape {
  const cached = shapes.get(table);
  if (cached !== undefined) return cached;
  const pk = table.primaryKey;
  const nonKey = table.columns.map((col) => col.name).filter((col) => !pk.includes(col));
  const shape = {
    columns: new Set(table.columns.map((col) => col.name)),
    keyTypes: pk.map((col) => columnOf(table, col).type),
    onConflict:
      `ON CONFLICT (${pk.map(q).join(', ')}) ` +
      (nonKey.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${nonKey.map((col) => `${q(col)} = EXCLUDED.${q(col)}`).join(', ')}`),
  };
  shapes.set(table, shape);
  return shape;
}

/**
 * One table's changes of a write, as at most one DELETE and one upsert (`INSERT ... SELECT FROM unnest(...)
 * ON CONFLICT`), each taking one array parameter per column, added to `parts` and `values`. The last change
 * of each primary key wins: the tables are independent, so only the final state of each key matters, and the
 * delete and the upsert then touch different rows (their order does not matter).
 */
function tableWrite(
  schema: string,
  table: TableSpec,
  changes: readonly RowChange[],
  parts: string[],
  values: unknown[],
): void {
  const pk = table.primaryKey;
  const shape = shapeOf(table);
  const last = new Map<string, RowChange>();
  for (const ch of changes) {
    const row = ch.op === 'upsert' ? ch.row : ch.key;
    if (ch.op === 'upsert') {
      for (const k in row) if (!shape.columns.has(k)) checkColumn(table, k);
    } else for (const col of pk) keyValue(table, row, col);
    const key = keyOf(shape.keyTypes, pk, row);
    last.delete(key);
    last.set(key, ch);
  }
  const deletes: Row[] = [];
  const upserts: Row[] = [];
  for (const ch of last.values()) {
    if (ch.op === 'upsert') upserts.push(ch.row);
    else deletes.push(ch.key);
  }
  const arrays = (
    types: readonly ColumnSpec['type'][],
    columns: readonly (readonly CellValue[])[],
  ): string => {
    const base = values.length;
    values.push(...columns);
    return types.map((t, i) => `$${base + i + 1}::${ARRAY_TYPES[t]}`).join(', ');
  };
  if (deletes.length > 0)
    parts.push(
      `DELETE FROM ${qq(schema, table.name)} WHERE (${pk.map(q).join(', ')}) IN (SELECT * FROM unnest(${arrays(
        shape.keyTypes,
        pk.map((col) => deletes.map((k) => keyValue(table, k, col))),
      )}))`,
    );
  if (upserts.length > 0)
    parts.push(
      `INSERT INTO ${qq(schema, table.name)} (${table.columns.map((col) => q(col.name)).join(', ')}) ` +
        `SELECT * FROM unnest(${arrays(
          table.columns.map((col) => col.type),
          table.columns.map((col) => upserts.map((r) => r[col.name] ?? null)),
        )}) ${shape.onConflict}`,
    );
}

function tableOf(spec: ProjectionSpec, name: string): TableSpec {
  const t = spec.tables.find((x) => x.name === name);
  if (t === undefined) throw new Error(`apply: table ${name} is not a table of projection ${spec.name}`);
  return t;
}

function columnOf(table: TableSpec, column: string): ColumnSpec {
  const c = table.columns.find((x) => x.name === column);
  if (c === undefined) throw new Error(`${column} is not a column of ${table.name}`);
  return c;
}

function checkColumn(table: TableSpec, column: string): void {
  columnOf(table, column);
}

function checkFilters(table: TableSpec, filters: readonly Filter[]): void {
  for (const f of filters) checkColumn(table, f.column);
}

function keyValue(table: TableSpec, key: Row, column: string): CellValue {
  const v = key[column];
  if (v === undefined || v === null)
    throw new Error(`key of ${table.name} lacks its primary key column ${column}`);
  return v;
}

/** Rows as the port's cells: `timestamptz` as ISO-8601 UTC text with milliseconds, booleans as 1/0, JSON as text. */
function toRow(r: Record<string, unknown>): Row {
  // eslint-disable-next-line crm/no-plain-dictionary -- keys are the query's column names, not client data
  const out: Record<string, CellValue> = {};
  for (const [k, v] of Object.entries(r)) out[k] = toCell(v);
  return out;
}

function toCell(v: unknown): CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/** A query the client stopped waiting for (pg's `query_timeout`): no answer from the server, unlike an error it sent. */
function unanswered(error: unknown): error is Error {
  return error instanceof Error && !(error instanceof pg.DatabaseError) && /timeout/i.test(error.message);
}
