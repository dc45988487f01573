import type { GlobalPosition } from './event-store.js';

/**
 * The read-model store port: where projections keep the rows that analysts query (SQLite by default,
 * PostgreSQL as an alternative). Every implementation passes the read-model conformance suite
 * (`@crm-ledger/readmodel-conformance`); the contract they share (cursor codec, typed errors and their guards,
 * partitioned-rebuild options) is in `read-model-contract.ts`.
 *
 * Model:
 * - A projection (e.g. `service`) owns a set of tables ({@link ProjectionSpec}) and one checkpoint: the
 *   global position of the last event reflected in its rows. Rows and checkpoint always change in the same
 *   transaction ({@link ReadModelStore.apply}), so after a crash the rows match the checkpoint exactly and
 *   processing resumes after it: no event is applied twice, none is lost.
 * - Every projection has two copies of its tables: `live` (what queries read) and `shadow` (a rebuild in
 *   progress). A rebuild writes into `shadow` with its own checkpoint, possibly over several runs (it survives
 *   crashes), then {@link ReadModelStore.completeRebuild} swaps it in atomically: queries see the old complete
 *   view or the new complete view, never a half-built one.
 * - Table and column names are plain SQL identifiers (`[a-z][a-z0-9_]*`), the same in every dialect, so the
 *   tables can be documented once for plain-SQL users. Queries always read `live` tables.
 * - Cells are the same in every dialect: times ISO-8601 UTC text normalised to milliseconds
 *   (`YYYY-MM-DDTHH:MM:SS.sssZ`, so they compare correctly as strings), money integer minor units next to a
 *   currency column, flags 0/1. A column's {@link ColumnType} says what it holds, so each dialect stores it in
 *   the type its users expect (PostgreSQL: `timestamptz`, `boolean`; SQLite: text, integer) and gives the
 *   same cells back.
 *
 * Expected failures of an I/O store are rare (the store is local or the process cannot work at all), so
 * methods reject their promise on failure (a bug or infrastructure failure, caught at the edge) rather than
 * returning Either values.
 */
export interface ReadModelStore {
  /** Which SQL dialect {@link ReadModelStore.sql} runs, so a caller can pick the matching text. */
  readonly dialect: SqlDialect;

  /**
   * Creates the projection's live tables and indexes if missing and registers its spec.
   * Returns the live checkpoint, and `versionChanged: true` when the stored tables were built by another
   * `spec.version` (the caller must rebuild; the old rows are still served until the rebuild completes).
   */
  ensureProjection(spec: ProjectionSpec): Promise<{ checkpoint: GlobalPosition; versionChanged: boolean }>;

  /** The checkpoint of a projection's live or shadow tables: 0 when nothing was applied (or unknown projection). */
  checkpoint(projection: string, target?: Target): Promise<GlobalPosition>;

  /**
   * Applies row changes of one or more projections and moves each one's checkpoint, all in ONE transaction.
   * Changes apply in order (a later upsert of the same key wins). A write whose checkpoint is not greater
   * than the stored one is rejected (the promise rejects and nothing is written): it would apply events twice.
   * A write whose `expectedCheckpoint` is not the stored one rejects with `CheckpointMoved` (`isCheckpointMoved`).
   */
  apply(writes: readonly ProjectionWrite[]): Promise<void>;

  /**
   * Reads rows of a projection's table by exact values of some columns (e.g. one customer's rows, or
   * several keys at once with `in`), from `live` by default or from `shadow` during a rebuild.
   * The projector uses it to reload state it does not hold in memory.
   */
  find(table: string, where: readonly Filter[], target?: Target): Promise<readonly Row[]>;

  /**
   * Starts (or restarts) a rebuild: drops any shadow tables of the projection, creates empty ones from
   * `spec`, sets the shadow checkpoint to 0. Write into it with `apply` and `target: 'shadow'`.
   */
  beginRebuild(spec: ProjectionSpec): Promise<void>;

  /** True when a rebuild of the projection is in progress (shadow tables exist): a restarted replay resumes it. */
  rebuildInProgress(projection: string): Promise<boolean>;

  /**
   * Atomically replaces the live tables (and checkpoint, and spec version) by the shadow ones, in one
   * transaction, and drops the old live tables.
   */
  completeRebuild(projection: string): Promise<void>;

  /** Drops the shadow tables of an unfinished rebuild; live tables are untouched. */
  abortRebuild(projection: string): Promise<void>;

  /** One row of a live table by its full primary key, or undefined. */
  get(table: string, key: Row): Promise<Row | undefined>;

  /**
   * A page of a live table: filters (AND), sort, keyset pagination. The primary key is appended to the sort
   * so the order is total and the cursor stable across inserts. A cursor this query did not write (tampered,
   * or written for another table or sort) rejects with `InvalidCursor` (`isInvalidCursor`).
   */
  list(table: string, query: ListQuery): Promise<Page>;

  /** Grouped aggregates (count, sum, avg, min, max) over a live table, with filters; ordered by the group columns. */
  aggregate(table: string, query: AggregateQuery): Promise<readonly Row[]>;

  /**
   * Escape hatch for queries the generic methods cannot express (percentiles, joins, window functions):
   * the caller gives the text for each dialect, with positional parameters written `?` in both (the
   * PostgreSQL adapter rewrites them to `$1, $2...`). Read-only: implementations may reject writes.
   */
  sql(text: DialectSql, params?: readonly CellValue[]): Promise<readonly Row[]>;

  /**
   * Optional: an exclusive lock on running one projection, across processes sharing this read model
   * (PostgreSQL: a session-level advisory lock). Resolves `undefined` when another process holds it: run as
   * a standby and try again later. A store without it (SQLite: one projector process per file) leaves
   * coordination to the transactional checkpoint alone.
   */
  tryLockProjection?(projection: string): Promise<ProjectionLock | undefined>;

  close(): Promise<void>;
}

/** A held projection lock (see {@link ReadModelStore.tryLockProjection}). */
export interface ProjectionLock {
  readonly projection: string;
  /** Aborted when the lock is lost without `release` (its database session died): stop running the projection. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export type SqlDialect = 'sqlite' | 'postgres';

/** The live tables (what queries read) or the shadow tables of a rebuild in progress. */
export type Target = 'live' | 'shadow';

/** A cell: text, a number (integer or real), or NULL. JSON is stored as text. */
export type CellValue = string | number | null;
export type Row = Readonly<Record<string, CellValue>>;

/**
 * Column types common to every dialect: `integer` is 64-bit (money in minor units fits), `real` a double, `text`
 * UTF-8; `timestamp` an instant (cells: ISO-8601 UTC text with milliseconds; SQLite TEXT, PostgreSQL
 * `timestamptz`); `boolean` a flag (cells: 1 or 0; SQLite INTEGER, PostgreSQL `boolean`).
 */
export type ColumnType = 'text' | 'integer' | 'real' | 'timestamp' | 'boolean';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** Default false: NOT NULL. */
  readonly nullable?: boolean;
  /** What the column means, for docs and for plain-SQL users. */
  readonly description?: string;
}

export interface IndexSpec {
  readonly name: string;
  readonly columns: readonly string[];
}

export interface TableSpec {
  readonly name: string;
  readonly description?: string;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly indexes?: readonly IndexSpec[];
}

/** A projection's tables. Changing the shape of any table means bumping `version` and rebuilding. */
export interface ProjectionSpec {
  readonly name: string;
  readonly version: number;
  readonly tables: readonly TableSpec[];
}

/** One row change: an upsert (insert or replace the whole row by its primary key) or a delete by primary key. */
export type RowChange =
  | { readonly op: 'upsert'; readonly table: string; readonly row: Row }
  | { readonly op: 'delete'; readonly table: string; readonly key: Row };

/** The changes of one projection for a batch of events and the position they bring it to. */
export interface ProjectionWrite {
  readonly projection: string;
  readonly target?: Target;
  readonly changes: readonly RowChange[];
  /**
   * The global position of the last event these changes reflect: after the stored one, or equal to it when
   * `expectedCheckpoint` is that same position (a write that applies no new event: a held customer caught up
   * again, a retry asked).
   */
  readonly checkpoint: GlobalPosition;
  /**
   * Optional optimistic check: the checkpoint the writer believes is stored. When given and different (a
   * rebuild was swapped in meanwhile, or another writer moved on), the whole `apply` is rejected and nothing
   * is written; the writer reloads its state and resumes from the stored checkpoint.
   */
  readonly expectedCheckpoint?: GlobalPosition;
}

export type Filter =
  | {
      readonly column: string;
      readonly op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte';
      readonly value: string | number;
    }
  | { readonly column: string; readonly op: 'in'; readonly values: readonly (string | number)[] }
  | { readonly column: string; readonly op: 'isNull' | 'notNull' };

export interface Sort {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
}

export interface ListQuery {
  readonly where?: readonly Filter[];
  readonly orderBy?: readonly Sort[];
  /** At most this many rows (the store may cap it). */
  readonly limit: number;
  /** The `nextCursor` of the previous page, opaque. */
  readonly cursor?: string;
}

export interface Page {
  readonly rows: readonly Row[];
  /** Pass it back for the next page; undefined on the last page. */
  readonly nextCursor?: string;
}

export interface Measure {
  /** Name of the output column. */
  readonly as: string;
  readonly fn: 'count' | 'sum' | 'avg' | 'min' | 'max';
  /** The column aggregated; omitted for `count` of rows. */
  readonly column?: string;
}

export interface AggregateQuery {
  readonly where?: readonly Filter[];
  readonly groupBy: readonly string[];
  readonly measures: readonly Measure[];
}

/** SQL text per dialect, for {@link ReadModelStore.sql}. */
export type DialectSql = { readonly [D in SqlDialect]: string };
