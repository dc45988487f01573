import Database from 'better-sqlite3';
import {
  assertRebuildPartition,
  type AggregateQuery,
  type CellValue,
  type DialectSql,
  type Filter,
  type GlobalPosition,
  type ListQuery,
  type Page,
  type PartitionedRebuilds,
  type ProjectionSpec,
  type ProjectionWrite,
  type ReadModelStore,
  type RebuildPartition,
  type Row,
  type Target,
} from '@crm-ledger/core';
import { RowWriter } from './apply.js';
import { checkIdent, createIndexesSql, createTableSql, META_DDL, physical } from './ddl.js';
import * as partitions from './partitions.js';
import { aggregateQuery, findQuery, getQuery, listQuery } from './query-builder.js';
import { TableRegistry } from './registry.js';

export interface SqliteReadModelOptions {
  /** Path of the database file, or ':memory:'. */
  readonly file: string;
  /**
   * `normal` (default): a power loss may lose the last transactions but never corrupts, and rows and
   * checkpoint stay together, so the projector simply re-applies after the checkpoint. `full`: fsync per commit.
   */
  readonly synchronous?: 'full' | 'normal';
  /** Open read-only (a query service next to a running projector). */
  readonly readonly?: boolean;
  /**
   * Taken around every `apply` transaction: several connections to one file in threads of one process (a
   * parallel replay) hand the SQLite write lock over at once instead of polling it with `busy_timeout` sleeps.
   */
  readonly writeLock?: WriteLock;
  /**
   * A thread of a partitioned rebuild (see `beginPartitions`): this connection keeps the shadow checkpoints of
   * partition `index` of `count`, while the rows go to the same shadow tables as every other partition's.
   */
  readonly partition?: RebuildPartition;
}

/** A lock several threads share (e.g. over a `SharedArrayBuffer`); `acquire` blocks until it is free. */
export interface WriteLock {
  acquire(): void;
  release(): void;
}

/**
 * The SQLite adapter of the read-model port: one file, WAL (readers never block the projector's writes),
 * prepared statements cached per table, a whole batch of every projection in one transaction.
 * Shadow tables are named `<table>__shadow` and built without secondary indexes (faster bulk load);
 * `completeRebuild` drops the live table, renames the shadow and creates the indexes, in one transaction.
 * Its seams: `ddl.ts` (tables), `registry.ts` (the specs' tables and columns), `apply.ts` (row changes and
 * checkpoints), `query-builder.ts` (find, get, list, aggregate), `partitions.ts` (partitioned rebuilds).
 */
export class SqliteReadModel implements ReadModelStore, PartitionedRebuilds {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly registry = new TableRegistry();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writer: RowWriter;
  /** `writer.write` wrapped in a transaction once (BEGIN ... COMMIT, ROLLBACK on a throw). */
  private readonly applyInTransaction: (writes: readonly ProjectionWrite[]) => void;
  private readonly writeLock: WriteLock | undefined;
  /** The `target` of this connection's shadow checkpoint rows: `shadow`, or `shadow:<index>/<count>`. */
  private readonly shadowKey: string;

  constructor(options: SqliteReadModelOptions) {
    this.writeLock = options.writeLock;
    const p = options.partition;
    if (p !== undefined) assertRebuildPartition(p);
    this.shadowKey = p === undefined ? 'shadow' : partitions.partitionKey(p.index, p.count);
    this.db = new Database(options.file, { readonly: options.readonly === true });
    this.writer = new RowWriter(
      this.db,
      this.registry,
      (projection, target) => this.checkpointSync(projection, target),
      this.shadowKey,
    );
    this.applyInTransaction = this.db.transaction(this.writer.write);
    if (options.readonly !== true) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.exec(META_DDL);
    }
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('cache_size = -65536');
    this.loadRegisteredSpecs();
  }

  /** Registers the specs stored by a previous run (so a read-only instance can query without them). */
  private loadRegisteredSpecs(): void {
    const exists = this.db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readmodel_projections'")
      .get();
    if (exists === undefined) return;
    const rows = this.db.prepare("SELECT spec FROM readmodel_projections WHERE target = 'live'").all() as {
      spec: string;
    }[];
    for (const r of rows) this.register(JSON.parse(r.spec) as ProjectionSpec);
  }

  private register(spec: ProjectionSpec): void {
    this.registry.register(spec);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Forgets every prepared statement (tables were dropped or renamed). */
  private forgetStatements(): void {
    this.statements.clear();
    this.writer.clear();
  }

  private createTables(spec: ProjectionSpec, target: Target, withIndexes: boolean): void {
    for (const t of spec.tables) {
      this.db.exec(createTableSql(t, target));
      if (withIndexes) this.createIndexes(t);
    }
  }

  private createIndexes(t: ProjectionSpec['tables'][number]): void {
    for (const sql of createIndexesSql(t)) this.db.exec(sql);
  }

  ensureProjection(spec: ProjectionSpec): Promise<{ checkpoint: GlobalPosition; versionChanged: boolean }> {
    return attempt(() => this.ensureProjectionSync(spec));
  }

  private ensureProjectionSync(spec: ProjectionSpec): {
    checkpoint: GlobalPosition;
    versionChanged: boolean;
  } {
    this.register(spec);
    const result = this.db.transaction(() => {
      const row = this.db
        .prepare("SELECT version, checkpoint FROM readmodel_projections WHERE name = ? AND target = 'live'")
        .get(spec.name) as { version: number; checkpoint: number } | undefined;
      if (row !== undefined && row.version !== spec.version) {
        return { checkpoint: row.checkpoint, versionChanged: true };
      }
      this.createTables(spec, 'live', true);
      this.db
        .prepare(
          `INSERT INTO readmodel_projections (name, target, version, checkpoint, spec) VALUES (?, 'live', ?, 0, ?)
           ON CONFLICT (name, target) DO UPDATE SET spec = excluded.spec`,
        )
        .run(spec.name, spec.version, JSON.stringify(spec));
      return { checkpoint: row?.checkpoint ?? 0, versionChanged: false };
    })();
    return result;
  }

  private checkpointSync(projection: string, target: Target): GlobalPosition {
    const row = this.stmt('SELECT checkpoint FROM readmodel_projections WHERE name = ? AND target = ?').get(
      projection,
      target === 'shadow' ? this.shadowKey : target,
    ) as { checkpoint: number } | undefined;
    return row?.checkpoint ?? 0;
  }

  checkpoint(projection: string, target: Target = 'live'): Promise<GlobalPosition> {
    return Promise.resolve(this.checkpointSync(projection, target));
  }

  apply(writes: readonly ProjectionWrite[]): Promise<void> {
    const lock = this.writeLock;
    try {
      if (lock === undefined) this.applyInTransaction(writes);
      else {
        lock.acquire();
        try {
          this.applyInTransaction(writes);
        } finally {
          lock.release();
        }
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  find(table: string, where: readonly Filter[], target: Target = 'live'): Promise<readonly Row[]> {
    return attempt(() => {
      const q = findQuery(this.registry.table(table), where, target);
      return this.stmt(q.sql).all(q.params) as Row[];
    });
  }

  beginRebuild(spec: ProjectionSpec): Promise<void> {
    return attempt(() => {
      this.register(spec);
      this.db.transaction(() => {
        this.dropShadow(spec.name);
        this.createTables(spec, 'shadow', false);
        this.db
          .prepare(
            "INSERT INTO readmodel_projections (name, target, version, checkpoint, spec) VALUES (?, 'shadow', ?, 0, ?)",
          )
          .run(spec.name, spec.version, JSON.stringify(spec));
      })();
    });
  }

  private dropShadow(projection: string): void {
    const spec = partitions.shadowSpec(this.db, projection);
    if (spec === undefined) return;
    for (const t of spec.tables)
      this.db.exec(`DROP TABLE IF EXISTS ${physical(checkIdent(t.name), 'shadow')}`);
    this.db
      .prepare(
        "DELETE FROM readmodel_projections WHERE name = ? AND (target = 'shadow' OR target LIKE 'shadow:%')",
      )
      .run(projection);
    this.forgetStatements();
  }

  rebuildInProgress(projection: string): Promise<boolean> {
    return Promise.resolve(partitions.shadowSpec(this.db, projection) !== undefined);
  }

  /** The partition count of the rebuild of `projection` in progress, if it is partitioned. */
  partitionsOf(projection: string): number | undefined {
    return partitions.partitionsOf(this.db, projection);
  }

  /**
   * Splits the rebuild of `projection` in progress into `count` partitions, each with a shadow checkpoint of
   * its own starting where the rebuild is (connections opened with `partition` keep them), or keeps the
   * partitions of an interrupted partitioned rebuild with the same count. Partitions split the log by
   * customer, and every table of a view is keyed by customer, so partitions write disjoint rows.
   */
  beginPartitions(projection: string, count: number): void {
    partitions.beginPartitions(this.db, projection, count, () => this.checkpointSync(projection, 'shadow'));
  }

  /**
   * Ends a partitioned rebuild whose every partition has applied the log up to `until`: the rebuild's shadow
   * checkpoint becomes `until` and the partitions' checkpoints go, in one transaction.
   */
  endPartitions(projection: string, until: GlobalPosition): void {
    partitions.endPartitions(this.db, projection, until);
  }

  completeRebuild(projection: string): Promise<void> {
    return attempt(() => this.completeRebuildSync(projection));
  }

  private completeRebuildSync(projection: string): void {
    const spec = partitions.shadowSpec(this.db, projection);
    if (spec === undefined) throw new Error(`no rebuild of ${projection} in progress`);
    const split = this.partitionsOf(projection);
    if (split !== undefined)
      throw new Error(`the rebuild of ${projection} is split in ${split} partitions: endPartitions first`);
    this.db.transaction(() => {
      const live = this.db
        .prepare("SELECT spec FROM readmodel_projections WHERE name = ? AND target = 'live'")
        .get(projection) as { spec: string } | undefined;
      const oldTables = live === undefined ? [] : (JSON.parse(live.spec) as ProjectionSpec).tables;
      for (const t of oldTables) this.db.exec(`DROP TABLE IF EXISTS ${checkIdent(t.name)}`);
      for (const t of spec.tables) {
        this.db.exec(`DROP TABLE IF EXISTS ${t.name}`);
        this.db.exec(`ALTER TABLE ${physical(t.name, 'shadow')} RENAME TO ${t.name}`);
        this.createIndexes(t);
      }
      const shadow = this.checkpointSync(projection, 'shadow');
      this.db
        .prepare("DELETE FROM readmodel_projections WHERE name = ? AND target IN ('live', 'shadow')")
        .run(projection);
      this.db
        .prepare(
          "INSERT INTO readmodel_projections (name, target, version, checkpoint, spec) VALUES (?, 'live', ?, ?, ?)",
        )
        .run(projection, spec.version, shadow, JSON.stringify(spec));
    })();
    this.forgetStatements();
    this.register(spec);
  }

  abortRebuild(projection: string): Promise<void> {
    return attempt(() => this.db.transaction(() => this.dropShadow(projection))());
  }

  get(table: string, key: Row): Promise<Row | undefined> {
    return attempt(() => {
      const q = getQuery(this.registry.table(table), key);
      return this.stmt(q.sql).get(q.params) as Row | undefined;
    });
  }

  list(table: string, query: ListQuery): Promise<Page> {
    return attempt(() => {
      const q = listQuery(this.registry.table(table), query);
      return q.toPage(this.stmt(q.sql).all(q.params) as Record<string, CellValue>[]);
    });
  }

  aggregate(table: string, query: AggregateQuery): Promise<readonly Row[]> {
    return attempt(() => {
      const q = aggregateQuery(this.registry.table(table), query);
      return this.stmt(q.sql).all(q.params) as Row[];
    });
  }

  sql(text: DialectSql, params: readonly CellValue[] = []): Promise<readonly Row[]> {
    return attempt(() => this.sqlSync(text, params));
  }

  private sqlSync(text: DialectSql, params: readonly CellValue[] = []): readonly Row[] {
    const s = this.stmt(text.sqlite);
    if (!s.reader) throw new Error('sql() is read-only');
    return s.all(params) as Row[];
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

/** Runs synchronous SQLite work as a promise: a thrown error becomes a rejection, never a synchronous throw. */
function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Opens (creating if needed) the read-model database. */
export function openSqliteReadModel(options: SqliteReadModelOptions): SqliteReadModel {
  return new SqliteReadModel(options);
}
