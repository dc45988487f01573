import type { GlobalPosition } from './event-store.js';
import type { CellValue, ProjectionWrite, ReadModelStore, Sort, Target } from './read-model-store.js';

/**
 * The contract of the read-model port that every adapter shares (see `read-model-store.ts`): the list-cursor
 * format and its one codec, the typed errors with their guards, and the options of a partitioned rebuild.
 * Adapters import these; callers recognise the errors with the guards, never by `error.name` strings.
 */

/**
 * A cursor this query did not produce: not base64url JSON, another shape, extra fields, cells of another type
 * or count, or a cursor written for another table or sort. The query API answers 400.
 */
export class InvalidCursor extends Error {
  constructor(readonly reason = 'not a cursor of this query') {
    super(`invalid cursor: ${reason}`);
    this.name = 'InvalidCursor';
  }
}

/** The stored checkpoint is not the one the writer expected (a rebuild was swapped in, or another writer). */
export class CheckpointMoved extends Error {
  constructor(
    readonly projection: string,
    readonly expected: GlobalPosition,
    readonly actual: GlobalPosition,
  ) {
    super(`${projection}: checkpoint is ${actual}, the writer expected ${expected}`);
    this.name = 'CheckpointMoved';
  }
}

/**
 * True for an {@link InvalidCursor}, also one that crossed a realm or a worker boundary (same name and shape),
 * so callers never compare `error.name` themselves.
 */
export function isInvalidCursor(error: unknown): error is InvalidCursor {
  return error instanceof InvalidCursor || (error instanceof Error && error.name === 'InvalidCursor');
}

/** True for a {@link CheckpointMoved} (see {@link isInvalidCursor} for errors from another realm). */
export function isCheckpointMoved(error: unknown): error is CheckpointMoved {
  return (
    error instanceof CheckpointMoved ||
    (error instanceof Error &&
      error.name === 'CheckpointMoved' &&
      typeof (error as Partial<CheckpointMoved>).projection === 'string')
  );
}

/**
 * The checkpoint rule of `ReadModelStore.apply`, for one write against the checkpoint `stored` for its target:
 * a write expecting another checkpoint throws {@link CheckpointMoved}; a write that does not move the checkpoint
 * forward throws (it would apply events twice), unless it stays at the checkpoint it expects (a correction that
 * applies no event: a held customer caught up, a retry asked).
 */
export function checkWriteCheckpoint(write: ProjectionWrite, stored: GlobalPosition): void {
  if (write.expectedCheckpoint !== undefined && write.expectedCheckpoint !== stored)
    throw new CheckpointMoved(write.projection, write.expectedCheckpoint, stored);
  const target: Target = write.target ?? 'live';
  if (
    !Number.isSafeInteger(write.checkpoint) ||
    write.checkpoint < stored ||
    (write.checkpoint === stored && write.expectedCheckpoint !== stored)
  )
    throw new Error(
      `apply: checkpoint ${write.checkpoint} of ${write.projection} (${target}) is not after the stored ${stored}: the events would be applied twice`,
    );
}

/**
 * The list cursor: base64url of the JSON object `{"s": <sort>, "k": [<cells>]}` where `s` names what the cursor
 * pages through (for `ReadModelStore.list`: the table and its total sort, see {@link listSortKey}) and `k`
 * holds the sort values of the last row of the page. Decoding refuses anything else with {@link InvalidCursor}.
 */
export function encodeCursor(sort: string, values: readonly CellValue[]): string {
  return Buffer.from(JSON.stringify({ s: sort, k: values }), 'utf8').toString('base64url');
}

/** Longest cursor accepted (a cursor holds one page's last sort values, never a page of data). */
export const MAX_CURSOR_LENGTH = 4096;

/**
 * The cells of a cursor written by {@link encodeCursor} for the same `sort`, exactly `length` of them (text,
 * finite numbers or null). Throws {@link InvalidCursor} for anything else.
 */
export function decodeCursor(cursor: string, sort: string, length: number): CellValue[] {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH)
    throw new InvalidCursor('empty or too long');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursor('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidCursor('not an object');
  const keys = Object.keys(parsed);
  if (keys.length !== 2 || !keys.includes('s') || !keys.includes('k'))
    throw new InvalidCursor('unexpected fields');
  const { s, k } = parsed as { s: unknown; k: unknown };
  if (s !== sort) throw new InvalidCursor('written for another sort');
  if (!Array.isArray(k) || k.length !== length) throw new InvalidCursor('wrong number of values');
  for (const v of k as unknown[])
    if (!(v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))))
      throw new InvalidCursor('a value is not a cell');
  return k as CellValue[];
}

/** The SQL operator of each comparison filter (`Filter` with a `value`), the same in every dialect. */
export const COMPARISON_SQL = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** What a `list` cursor pages through: the table and its total sort (`t:col asc,col2 desc`). */
export function listSortKey(table: string, sort: readonly Sort[]): string {
  return `${table}:${sort.map((s) => `${s.column} ${s.direction}`).join(',')}`;
}

/**
 * The sort of `list` made total: the requested sort, then every primary-key column not in it, ascending.
 * The cursor holds one value per entry.
 */
export function totalSort(orderBy: readonly Sort[] | undefined, primaryKey: readonly string[]): Sort[] {
  const sorts: Sort[] = [...(orderBy ?? [])];
  for (const k of primaryKey)
    if (!sorts.some((s) => s.column === k)) sorts.push({ column: k, direction: 'asc' });
  return sorts;
}

/** Rows per `list` page: the asked limit clamped to 1..max (a non-finite limit counts as 1). */
export function pageSize(limit: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(Number.isFinite(limit) ? limit : 1)));
}

/**
 * One thread of a partitioned rebuild: partition `index` of `count`. The thread's connection keeps the shadow
 * checkpoints of its partition; the rows go to the same shadow tables as every other partition's.
 */
export interface RebuildPartition {
  readonly index: number;
  readonly count: number;
}

/** Throws a RangeError unless `index` is an integer from 0 to count - 1 and `count` at least 1. */
export function assertRebuildPartition(p: RebuildPartition): void {
  if (!(
    Number.isSafeInteger(p.count) &&
    p.count >= 1 &&
    Number.isSafeInteger(p.index) &&
    p.index >= 0 &&
    p.index < p.count
  ))
    throw new RangeError(`partition ${JSON.stringify(p)}: index must be an integer from 0 to count - 1`);
}

/**
 * Optional capability of a read-model store: a rebuild split into partitions by customer (every view table is
 * keyed by customer, so partitions write disjoint rows), each with its own shadow checkpoints (SQLite: threads
 * of one process sharing the file).
 */
export interface PartitionedRebuilds {
  /** The partition count of the rebuild of `projection` in progress, if it is partitioned. */
  partitionsOf(projection: string): number | undefined;
  /**
   * Splits the rebuild in progress into `count` (2 or more) partitions starting where the rebuild is, or keeps
   * the partitions of an interrupted rebuild with the same count (another count throws).
   */
  beginPartitions(projection: string, count: number): void;
  /** Ends a partitioned rebuild whose every partition applied the log up to `until`. */
  endPartitions(projection: string, until: GlobalPosition): void;
}

/** The store's partitioned rebuilds, when it offers them. */
export function partitionedRebuilds(
  store: ReadModelStore,
): (ReadModelStore & PartitionedRebuilds) | undefined {
  const s = store as ReadModelStore & Partial<PartitionedRebuilds>;
  return typeof s.beginPartitions === 'function' &&
    typeof s.endPartitions === 'function' &&
    typeof s.partitionsOf === 'function'
    ? (s as ReadModelStore & PartitionedRebuilds)
    : undefined;
}
