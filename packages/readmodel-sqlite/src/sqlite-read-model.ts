import Database from 'better-sqlite3';
import type {
  AggregateQuery,
  CellValue,
  ColumnSpec,
  DialectSql,
  Filter,
  GlobalPosition,
  ListQuery,
  Page,
  ProjectionSpec,
  ProjectionWrite,
  ReadModelStore,
  Row,
  Sort,
  TableSpec,
  Target,
} from '@crm-ledger/core';

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
  readonly partition?: { readonly index: number; readonly count: number };
}

/** A lock several threads share (e.g. over a `SharedArrayBuffer`); `acquire` blocks until it is free. */
export interface WriteLock {
  acquire(): void;
  release(): void;
}

const IDENT = /^[a-z][a-z0-9_]*$/;
const MAX_LIMIT = 1000;
const SHADOW = '__shadow';

const META_DDL = `
CREATE TABLE IF NOT EXISTS readmodel_projections (
  name       TEXT    NOT NULL,
  target     TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  checkpoint INTEGER NOT NULL,
  spec       TEXT    NOT NULL,
  PRIMARY KEY (name, target)
) STRICT;
`;

interface TableInfo {
  readonly spec: TableSpec;
  readonly projection: string;
  readonly columns: ReadonlyMap<string, ColumnSpec>;
}

const sqlType = (c: ColumnSpec): string =>
  `${c.type === 'text' ? 'TEXT' : c.type === 'integer' ? 'INTEGER' : 'REAL'}${c.nullable === true ? '' : ' NOT NULL'}`;

function checkIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a valid identifier: ${JSON.stringify(name)}`);
  return name;
}

/** The `target` of a partition's shadow checkpoint row. */
const partitionKey = (index: number, count: number): string => `shadow:${index}/${count}`;

const physical = (table: string, target: Target): string => (target === 'shadow' ? table + SHADOW : table);

/**
 * The SQLite adapter of the read-model port: one file, WAL (readers never block the projector's writes),
 * prepared statements cached per table, a whole batch of every projection in one transaction.
 * Shadow tables are named `<table>__shadow` and built without secondary indexes (faster bulk load);
 * `completeRebuild` drops the live table, renames the shadow and creates the indexes, in one transaction.
 */
export class SqliteReadModel implements ReadModelStore {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly tables = new Map<string, TableInfo>();
  private readonly statements = new Map<string, Database.Statement>();
  /** `applyTx` wrapped in a transaction once (BEGIN ... COMMIT, ROLLBACK on a throw). */
  private readonly applyInTransaction: (writes: readonly ProjectionWrite[]) => void;
  private readonly writeLock: WriteLock | undefined;
  /** The `target` of this connection's shadow checkpoint rows: `shadow`, or `shadow:<index>/<count>`. */
  private readonly shadowKey: string;

  constructor(options: SqliteReadModelOptions) {
    this.writeLock = options.writeLock;
    const p = options.partition;
    if (
      p !== undefined &&
      !(
        Number.isSafeInteger(p.count) &&
        p.count >= 1 &&
        Number.isSafeInteger(p.index) &&
        p.index >= 0 &&
        p.index < p.count
      )
    )
      throw new RangeError(`partition ${JSON.stringify(p)}: index must be an integer from 0 to count - 1`);
    this.shadowKey = p === undefined ? 'shadow' : partitionKey(p.index, p.count);
    this.db = new Database(options.file, { readonly: options.readonly === true });
    this.applyInTransaction = this.db.transaction((writes: readonly ProjectionWrite[]) =>
      this.applyTx(writes),
    );
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
    checkIdent(spec.name);
    for (const t of spec.tables) {
      checkIdent(t.name);
      const columns = new Map<string, ColumnSpec>();
      for (const c of t.columns) columns.set(checkIdent(c.name), c);
      for (const k of t.primaryKey)
        if (!columns.has(k)) throw new Error(`${t.name}: unknown key column ${k}`);
      this.tables.set(t.name, { spec: t, projection: spec.name, columns });
    }
  }

  private table(name: string): TableInfo {
    const t = this.tables.get(name);
    if (t === undefined) throw new Error(`unknown read-model table ${JSON.stringify(name)}`);
    return t;
  }

  private column(t: TableInfo, name: string): ColumnSpec {
    const c = t.columns.get(name);
    if (c === undefined) throw new Error(`unknown column ${JSON.stringify(name)} of ${t.spec.name}`);
    return c;
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private createTables(spec: ProjectionSpec, target: Target, withIndexes: boolean): void {
    for (const t of spec.tables) {
      const name = physical(t.name, target);
      const cols = t.columns.map((c) => `${c.name} ${sqlType(c)}`).join(', ');
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${name} (${cols}, PRIMARY KEY (${t.primaryKey.join(', ')})) WITHOUT ROWID`,
      );
      if (withIndexes) this.createIndexes(t);
    }
  }

  private createIndexes(t: TableSpec): void {
    for (const i of t.indexes ?? [])
      this.db.exec(
        `CREATE INDEX IF NOT EXISTS ${checkIdent(i.name)} ON ${t.name} (${i.columns.map(checkIdent).join(', ')})`,
      );
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

  /** Upsert and delete statements per physical table: built once, reused for every row. */
  private readonly writeStatements = new Map<
    string,
    { upsert: Database.Statement; del: Database.Statement }
  >();

  private writeStmts(t: TableInfo, target: Target): { upsert: Database.Statement; del: Database.Statement } {
    const name = physical(t.spec.name, target);
    let w = this.writeStatements.get(name);
    if (w === undefined) {
      const cols = t.spec.columns.map((c) => c.name);
      w = {
        upsert: this.db.prepare(
          `INSERT OR REPLACE INTO ${name} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        ),
        del: this.db.prepare(
          `DELETE FROM ${name} WHERE ${t.spec.primaryKey.map((k) => `${k} = ?`).join(' AND ')}`,
        ),
      };
      this.writeStatements.set(name, w);
    }
    return w;
  }

  private readonly applyTx = (writes: readonly ProjectionWrite[]): void => {
    for (const w of writes) {
      const target = w.target ?? 'live';
      const current = this.checkpointSync(w.projection, target);
      if (w.expectedCheckpoint !== undefined && w.expectedCheckpoint !== current)
        throw new CheckpointMoved(w.projection, w.expectedCheckpoint, current);
      if (w.checkpoint <= current)
        throw new Error(
          `${w.projection} (${target}) is at ${current}: a write up to ${w.checkpoint} would apply events twice`,
        );
      // Resolve each table once per write, not once per row: the row loop is the replay's hot path.
      const resolved = new Map<
        string,
        {
          t: TableInfo;
          w: { upsert: Database.Statement; del: Database.Statement };
          names: string[];
          values: CellValue[];
        }
      >();
      for (const change of w.changes) {
        let r = resolved.get(change.table);
        if (r === undefined) {
          const t = this.table(change.table);
          if (t.projection !== w.projection)
            throw new Error(`${change.table} is not a table of ${w.projection}`);
          const names = t.spec.columns.map((c) => c.name);
          r = { t, w: this.writeStmts(t, target), names, values: new Array<CellValue>(names.length) };
          resolved.set(change.table, r);
        }
        if (change.op === 'upsert') {
          const row = change.row;
          const { names, values } = r;
          // better-sqlite3 copies bound values, so one array per table is reused for every row.
          for (let i = 0; i < names.length; i++) values[i] = row[names[i]!] ?? null;
          r.w.upsert.run(values);
        } else {
          r.w.del.run(r.t.spec.primaryKey.map((k) => change.key[k] ?? null));
        }
      }
      const moved = this.stmt(
        'UPDATE readmodel_projections SET checkpoint = ? WHERE name = ? AND target = ?',
      ).run(w.checkpoint, w.projection, target === 'shadow' ? this.shadowKey : target);
      if (moved.changes !== 1)
        throw new Error(`${w.projection} (${target}) is not set up: ensureProjection/beginRebuild first`);
    }
  };

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

  private where(t: TableInfo, filters: readonly Filter[], params: CellValue[]): string {
    if (filters.length === 0) return '';
    const parts = filters.map((f) => {
      const c = this.column(t, f.column).name;
      switch (f.op) {
        case 'eq':
        case 'ne':
        case 'lt':
        case 'lte':
        case 'gt':
        case 'gte':
          params.push(f.value);
          return `${c} ${OPS[f.op]} ?`;
        case 'in':
          if (f.values.length === 0) return '0';
          params.push(...f.values);
          return `${c} IN (${f.values.map(() => '?').join(', ')})`;
        case 'isNull':
          return `${c} IS NULL`;
        case 'notNull':
          return `${c} IS NOT NULL`;
      }
    });
    return ` WHERE ${parts.join(' AND ')}`;
  }

  find(table: string, where: readonly Filter[], target: Target = 'live'): Promise<readonly Row[]> {
    return attempt(() => this.findSync(table, where, target));
  }

  private findSync(table: string, where: readonly Filter[], target: Target = 'live'): readonly Row[] {
    const t = this.table(table);
    const params: CellValue[] = [];
    const sql = `SELECT * FROM ${physical(t.spec.name, target)}${this.where(t, where, params)}`;
    return this.stmt(sql).all(params) as Row[];
  }

  beginRebuild(spec: ProjectionSpec): Promise<void> {
    return attempt(() => this.beginRebuildSync(spec));
  }

  private beginRebuildSync(spec: ProjectionSpec): void {
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
    return;
  }

  private shadowSpec(projection: string): ProjectionSpec | undefined {
    const row = this.db
      .prepare("SELECT spec FROM readmodel_projections WHERE name = ? AND target = 'shadow'")
      .get(projection) as { spec: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.spec) as ProjectionSpec);
  }

  private dropShadow(projection: string): void {
    const spec = this.shadowSpec(projection);
    if (spec === undefined) return;
    for (const t of spec.tables)
      this.db.exec(`DROP TABLE IF EXISTS ${physical(checkIdent(t.name), 'shadow')}`);
    this.db
      .prepare(
        "DELETE FROM readmodel_projections WHERE name = ? AND (target = 'shadow' OR target LIKE 'shadow:%')",
      )
      .run(projection);
    this.statements.clear();
    this.writeStatements.clear();
  }

  rebuildInProgress(projection: string): Promise<boolean> {
    return Promise.resolve(this.shadowSpec(projection) !== undefined);
  }

  /** The partition count of the rebuild of `projection` in progress, if it is partitioned. */
  partitionsOf(projection: string): number | undefined {
    const row = this.db
      .prepare("SELECT target FROM readmodel_projections WHERE name = ? AND target LIKE 'shadow:%' LIMIT 1")
      .get(projection) as { target: string } | undefined;
    return row === undefined ? undefined : Number(row.target.slice(row.target.indexOf('/') + 1));
  }

  /**
   * Splits the rebuild of `projection` in progress into `count` partitions, each with a shadow checkpoint of
   * its own starting where the rebuild is (connections opened with `partition` keep them), or keeps the
   * partitions of an interrupted partitioned rebuild with the same count. Partitions split the log by
   * customer, and every table of a view is keyed by customer, so partitions write disjoint rows.
   */
  beginPartitions(projection: string, count: number): void {
    if (!Number.isSafeInteger(count) || count < 2)
      throw new RangeError('a partitioned rebuild has 2 or more partitions');
    this.db.transaction(() => {
      const existing = this.partitionsOf(projection);
      if (existing === count) return;
      if (existing !== undefined)
        throw new Error(
          `the rebuild of ${projection} is split in ${existing} partitions, not ${count}: start it again`,
        );
      const spec = this.shadowSpec(projection);
      if (spec === undefined) throw new Error(`no rebuild of ${projection} in progress`);
      const from = this.checkpointSync(projection, 'shadow');
      const insert = this.db.prepare(
        'INSERT INTO readmodel_projections (name, target, version, checkpoint, spec) VALUES (?, ?, ?, ?, ?)',
      );
      for (let i = 0; i < count; i++)
        insert.run(projection, partitionKey(i, count), spec.version, from, JSON.stringify(spec));
    })();
  }

  /**
   * Ends a partitioned rebuild whose every partition has applied the log up to `until`: the rebuild's shadow
   * checkpoint becomes `until` and the partitions' checkpoints go, in one transaction.
   */
  endPartitions(projection: string, until: GlobalPosition): void {
    this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT checkpoint FROM readmodel_projections WHERE name = ? AND target LIKE 'shadow:%'")
        .all(projection) as { checkpoint: number }[];
      if (rows.length === 0) throw new Error(`the rebuild of ${projection} is not partitioned`);
      const beyond = rows.find((r) => r.checkpoint > until);
      if (beyond !== undefined)
        throw new Error(`a partition of ${projection} is at ${beyond.checkpoint}, after ${until}`);
      const moved = this.db
        .prepare(
          "UPDATE readmodel_projections SET checkpoint = max(checkpoint, ?) WHERE name = ? AND target = 'shadow'",
        )
        .run(until, projection);
      if (moved.changes !== 1) throw new Error(`no rebuild of ${projection} in progress`);
      this.db
        .prepare("DELETE FROM readmodel_projections WHERE name = ? AND target LIKE 'shadow:%'")
        .run(projection);
    })();
  }

  completeRebuild(projection: string): Promise<void> {
    return attempt(() => this.completeRebuildSync(projection));
  }

  private completeRebuildSync(projection: string): void {
    const spec = this.shadowSpec(projection);
    if (spec === undefined) throw new Error(`no rebuild of ${projection} in progress`);
    const partitions = this.partitionsOf(projection);
    if (partitions !== undefined)
      throw new Error(
        `the rebuild of ${projection} is split in ${partitions} partitions: endPartitions first`,
      );
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
    this.statements.clear();
    this.writeStatements.clear();
    this.register(spec);
    return;
  }

  abortRebuild(projection: string): Promise<void> {
    return attempt(() => this.abortRebuildSync(projection));
  }

  private abortRebuildSync(projection: string): void {
    this.db.transaction(() => this.dropShadow(projection))();
    return;
  }

  get(table: string, key: Row): Promise<Row | undefined> {
    return attempt(() => this.getSync(table, key));
  }

  private getSync(table: string, key: Row): Row | undefined {
    const t = this.table(table);
    const sql = `SELECT * FROM ${t.spec.name} WHERE ${t.spec.primaryKey.map((k) => `${k} = ?`).join(' AND ')}`;
    return this.stmt(sql).get(t.spec.primaryKey.map((k) => key[k] ?? null)) as Row | undefined;
  }

  /** Sort expression: nullable columns sort as '' (text) or a very small number, so keyset cursors work. */
  private sortExpr(t: TableInfo, column: string): string {
    const c = this.column(t, column);
    if (c.nullable !== true) return c.name;
    return `COALESCE(${c.name}, ${c.type === 'text' ? "''" : '-9.0e18'})`;
  }

  list(table: string, query: ListQuery): Promise<Page> {
    return attempt(() => this.listSync(table, query));
  }

  private listSync(table: string, query: ListQuery): Page {
    const t = this.table(table);
    const limit = Math.max(1, Math.min(MAX_LIMIT, Math.floor(query.limit)));
    const sorts: Sort[] = [...(query.orderBy ?? [])];
    for (const k of t.spec.primaryKey)
      if (!sorts.some((s) => s.column === k)) sorts.push({ column: k, direction: 'asc' });
    const exprs = sorts.map((s) => this.sortExpr(t, s.column));
    const params: CellValue[] = [];
    let where = this.where(t, query.where ?? [], params);
    if (query.cursor !== undefined) {
      const values = decodeCursor(query.cursor, sorts.length);
      // Keyset: (a > x) OR (a = x AND b > y) OR ..., with > or < per direction.
      const ors: string[] = [];
      for (let i = 0; i < sorts.length; i++) {
        const ands: string[] = [];
        for (let j = 0; j < i; j++) {
          ands.push(`${exprs[j]} = ?`);
          params.push(values[j]!);
        }
        ands.push(`${exprs[i]} ${sorts[i]!.direction === 'asc' ? '>' : '<'} ?`);
        params.push(values[i]!);
        ors.push(`(${ands.join(' AND ')})`);
      }
      where += `${where === '' ? ' WHERE ' : ' AND '}(${ors.join(' OR ')})`;
    }
    const selectSorts = exprs.map((e, i) => `${e} AS __s${i}`).join(', ');
    const order = exprs.map((e, i) => `${e} ${sorts[i]!.direction === 'asc' ? 'ASC' : 'DESC'}`).join(', ');
    const sql = `SELECT *, ${selectSorts} FROM ${t.spec.name}${where} ORDER BY ${order} LIMIT ${limit + 1}`;
    const raw = this.stmt(sql).all(params) as Record<string, CellValue>[];
    const more = raw.length > limit;
    const page = more ? raw.slice(0, limit) : raw;
    const rows = page.map((r) => {
      const out: Record<string, CellValue> = {};
      for (const c of t.spec.columns) out[c.name] = r[c.name] ?? null;
      return out;
    });
    const last = page[page.length - 1];
    return more && last !== undefined
      ? { rows, nextCursor: encodeCursor(sorts.map((_, i) => last[`__s${i}`] ?? null)) }
      : { rows };
  }

  aggregate(table: string, query: AggregateQuery): Promise<readonly Row[]> {
    return attempt(() => this.aggregateSync(table, query));
  }

  private aggregateSync(table: string, query: AggregateQuery): readonly Row[] {
    const t = this.table(table);
    const groups = query.groupBy.map((g) => this.column(t, g).name);
    const measures = query.measures.map((m) => {
      const as = checkIdent(m.as);
      if (m.column === undefined) {
        if (m.fn !== 'count') throw new Error(`${m.fn} needs a column`);
        return `COUNT(*) AS ${as}`;
      }
      return `${m.fn.toUpperCase()}(${this.column(t, m.column).name}) AS ${as}`;
    });
    const params: CellValue[] = [];
    const where = this.where(t, query.where ?? [], params);
    const group = groups.length === 0 ? '' : ` GROUP BY ${groups.join(', ')} ORDER BY ${groups.join(', ')}`;
    const sql = `SELECT ${[...groups, ...measures].join(', ')} FROM ${t.spec.name}${where}${group}`;
    return this.stmt(sql).all(params) as Row[];
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

const OPS = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

function encodeCursor(values: readonly CellValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string, length: number): CellValue[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor();
  }
  if (
    !Array.isArray(values) ||
    values.length !== length ||
    !values.every((v) => v === null || typeof v === 'string' || typeof v === 'number')
  )
    throw new InvalidCursor();
  return values as CellValue[];
}

/** The stored checkpoint is not the one the writer expected (a rebuild was swapped in, or another writer). */
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

/** A cursor that this query did not produce (tampered, or from another sort): the API answers 400. */
export class InvalidCursor extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursor';
  }
}

/** Opens (creating if needed) the read-model database. */
export function openSqliteReadModel(options: SqliteReadModelOptions): SqliteReadModel {
  return new SqliteReadModel(options);
}
