import pg from 'pg';
import type {
  AggregateQuery,
  CellValue,
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
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { assertSpec, createTableSql } from './ddl.js';
import { assertIdentifier, q, qq, shadowSchemaOf } from './identifiers.js';
import { MIGRATIONS, migrationsTableSql } from './migrations.js';
import { toPostgresPlaceholders } from './placeholders.js';
import { ProjectionLocks } from './projection-locks.js';
import {
  Params,
  afterClause,
  decodeCursor,
  encodeCursor,
  orderByClause,
  pick,
  whereClause,
} from './query-builder.js';

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
  /** Spec of each projection's live and shadow tables, by projection name. */
  private readonly registry = new Map<string, { live: ProjectionSpec; shadow?: ProjectionSpec }>();
  private readonly locks: ProjectionLocks;

  private constructor(options: PostgresReadModelOptions) {
    this.schema = options.schema ?? 'crm_ledger';
    assertIdentifier(this.schema, 'schema');
    if (this.schema.length > 54) throw new Error(`schema '${this.schema}' must be at most 54 characters`);
    this.shadowSchema = shadowSchemaOf(this.schema);
    this.maxPageSize = options.maxPageSize ?? 1000;
    if (options.pool !== undefined) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else {
      this.pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 10,
        types: numberTypes,
        application_name: 'crm-ledger',
      });
      this.ownsPool = true;
    }
    this.locks = new ProjectionLocks(this.pool.options, this.schema);
  }

  /** Connects, runs the store's migrations on the schema, and loads the projection registry. */
  static async open(options: PostgresReadModelOptions): Promise<PostgresReadModelStore> {
    const store = new PostgresReadModelStore(options);
    try {
      await store.migrate();
      await store.loadRegistry();
    } catch (error) {
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
        if (w.expectedCheckpoint !== undefined && w.expectedCheckpoint !== stored) {
          throw new CheckpointMoved(w.projection, w.expectedCheckpoint, stored);
        }
        if (!Number.isSafeInteger(w.checkpoint) || w.checkpoint <= stored) {
          throw new Error(
            `apply: checkpoint ${w.checkpoint} of ${w.projection} (${target}) is not after the stored ${stored}: the events would be applied twice`,
          );
        }
        const schema = target === 'live' ? this.schema : this.shadowSchema;
        for (const run of runs(w.changes)) await this.applyRun(c, schema, tableOf(spec, run.table), run);
        await c.query(
          `UPDATE ${qq(this.schema, '_projections')} SET ${target === 'live' ? 'checkpoint' : 'shadow_checkpoint'} = $2, updated_at = now() WHERE name = $1`,
          [w.projection, w.checkpoint],
        );
      }
    });
  }

  private async applyRun(c: pg.PoolClient, schema: string, table: TableSpec, run: Run): Promise<void> {
    const pk = table.primaryKey;
    if (run.op === 'delete') {
      const keys = dedupe(run.rows, pk);
      for (const chunk of chunks(keys, Math.floor(30_000 / pk.length))) {
        const params = new Params();
        const tuples = chunk.map(
          (k) => `(${pk.map((col) => params.add(keyValue(table, k, col))).join(', ')})`,
        );
        await c.query(
          `DELETE FROM ${qq(schema, table.name)} WHERE (${pk.map(q).join(', ')}) IN (${tuples.join(', ')})`,
          params.values,
        );
      }
      return;
    }
    const columns = table.columns.map((col) => col.name);
    const rows = dedupe(run.rows, pk);
    for (const r of rows) checkColumns(table, r);
    const nonKey = columns.filter((col) => !pk.includes(col));
    const update =
      nonKey.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${nonKey.map((col) => `${q(col)} = EXCLUDED.${q(col)}`).join(', ')}`;
    for (const chunk of chunks(rows, Math.floor(30_000 / columns.length))) {
      const params = new Params();
      const values = chunk.map((r) => `(${columns.map((col) => params.add(r[col] ?? null)).join(', ')})`);
      await c.query(
        `INSERT INTO ${qq(schema, table.name)} (${columns.map(q).join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (${pk.map(q).join(', ')}) ${update}`,
        params.values,
      );
    }
  }

  async find(table: string, where: readonly Filter[], target: Target = 'live'): Promise<readonly Row[]> {
    const spec = await this.table(table, target);
    checkFilters(spec, where);
    const params = new Params();
    const schema = target === 'live' ? this.schema : this.shadowSchema;
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${qq(schema, spec.name)} WHERE ${whereClause(where, params)} ORDER BY ${spec.primaryKey.map(q).join(', ')}`,
      params.values,
    );
    return rows;
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
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${qq(this.schema, spec.name)} WHERE ${where}`,
      params.values,
    );
    return rows[0];
  }

  async list(table: string, query: ListQuery): Promise<Page> {
    const spec = await this.table(table, 'live');
    const where = query.where ?? [];
    checkFilters(spec, where);
    const sort: Sort[] = [...(query.orderBy ?? [])];
    for (const s of sort) checkColumn(spec, s.column);
    for (const k of spec.primaryKey)
      if (!sort.some((s) => s.column === k)) sort.push({ column: k, direction: 'asc' });
    // Clamped to 1..maxPageSize, as the SQLite store does.
    const limit = Math.max(
      1,
      Math.min(this.maxPageSize, Math.floor(Number.isFinite(query.limit) ? query.limit : 1)),
    );
    const params = new Params();
    const conditions = [whereClause(where, params)];
    if (query.cursor !== undefined)
      conditions.push(afterClause(sort, decodeCursor(query.cursor, sort.length), params));
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${qq(this.schema, spec.name)} WHERE ${conditions.join(' AND ')} ORDER BY ${orderByClause(sort)} LIMIT ${limit + 1}`,
      params.values,
    );
    if (rows.length <= limit) return { rows };
    const page = rows.slice(0, limit);
    return {
      rows: page,
      nextCursor: encodeCursor(
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
      checkColumn(spec, m.column);
      return `${m.fn}(${q(m.column)}) AS ${q(m.as)}`;
    });
    const params = new Params();
    const groups = query.groupBy.map(q);
    const select = [...groups, ...measures].join(', ');
    const grouping =
      groups.length === 0
        ? ''
        : ` GROUP BY ${groups.join(', ')} ORDER BY ${query.groupBy.map((g) => `${q(g)} ASC NULLS FIRST`).join(', ')}`;
    const { rows } = await this.pool.query<Row>(
      `SELECT ${select} FROM ${qq(this.schema, spec.name)} WHERE ${whereClause(where, params)}${grouping}`,
      params.values,
    );
    return rows;
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
      await client.query(`SET LOCAL search_path TO ${q(this.schema)}`);
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
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
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
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 2,
    application_name: 'crm-ledger',
  });
  return new PostgresCheckpointStore(pool, schema, true);
}

/**
 * The stored checkpoint is not the one the writer expected (a rebuild was swapped in, or another writer moved
 * on): the projector recognises it by its name, drops its in-memory states and resumes from the stored one.
 */
export class CheckpointMoved extends Error {
  constructor(
    readonly projection: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${projection}: checkpoint is ${actual}, the writer expected ${expected}`);
    this.name = 'CheckpointMoved';
  }
}

/** Opens the PostgreSQL read-model store (creating the schema and running migrations if needed). */
export function openPostgresReadModelStore(
  options: PostgresReadModelOptions,
): Promise<PostgresReadModelStore> {
  return PostgresReadModelStore.open(options);
}

interface Run {
  readonly op: 'upsert' | 'delete';
  readonly table: string;
  readonly rows: Row[];
}

/** Consecutive changes of the same kind on the same table: one statement (or a few chunks) each, in order. */
function runs(changes: readonly RowChange[]): Run[] {
  const out: Run[] = [];
  for (const ch of changes) {
    const row = ch.op === 'upsert' ? ch.row : ch.key;
    const last = out[out.length - 1];
    if (last !== undefined && last.op === ch.op && last.table === ch.table) last.rows.push(row);
    else out.push({ op: ch.op, table: ch.table, rows: [row] });
  }
  return out;
}

/** Last change per primary key wins (one INSERT ... ON CONFLICT cannot touch a row twice). */
function dedupe(rows: readonly Row[], pk: readonly string[]): Row[] {
  const byKey = new Map<string, Row>();
  for (const r of rows) {
    const key = JSON.stringify(pk.map((k) => r[k] ?? null));
    byKey.delete(key);
    byKey.set(key, r);
  }
  return [...byKey.values()];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const n = Math.max(1, size);
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

function tableOf(spec: ProjectionSpec, name: string): TableSpec {
  const t = spec.tables.find((x) => x.name === name);
  if (t === undefined) throw new Error(`apply: table ${name} is not a table of projection ${spec.name}`);
  return t;
}

function checkColumn(table: TableSpec, column: string): void {
  if (!table.columns.some((c) => c.name === column))
    throw new Error(`${column} is not a column of ${table.name}`);
}

function checkColumns(table: TableSpec, row: Row): void {
  for (const k of Object.keys(row)) checkColumn(table, k);
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

/** Rows of free SQL as the port's cells: dates as ISO text, booleans as 0/1, JSON as text. */
function toRow(r: Record<string, unknown>): Row {
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
