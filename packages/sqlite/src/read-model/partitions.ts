import type Database from 'better-sqlite3';
import type { GlobalPosition, ProjectionSpec } from '@crm-ledger/core';

/**
 * The bookkeeping of shadow rebuilds in `readmodel_projections`: the shadow spec of a rebuild in progress and,
 * for a partitioned rebuild (threads of one process sharing the file), one `shadow:<i>/<n>` checkpoint row per
 * partition.
 */

/** The `target` of a partition's shadow checkpoint row. */
export const partitionKey = (index: number, count: number): string => `shadow:${index}/${count}`;

/** The spec of the rebuild of `projection` in progress, if any. */
export function shadowSpec(db: Database.Database, projection: string): ProjectionSpec | undefined {
  const row = db
    .prepare("SELECT spec FROM readmodel_projections WHERE name = ? AND target = 'shadow'")
    .get(projection) as { spec: string } | undefined;
  return row === undefined ? undefined : (JSON.parse(row.spec) as ProjectionSpec);
}

/** The partition count of the rebuild of `projection` in progress, if it is partitioned. */
export function partitionsOf(db: Database.Database, projection: string): number | undefined {
  const row = db
    .prepare("SELECT target FROM readmodel_projections WHERE name = ? AND target LIKE 'shadow:%' LIMIT 1")
    .get(projection) as { target: string } | undefined;
  return row === undefined ? undefined : Number(row.target.slice(row.target.indexOf('/') + 1));
}

/**
 * Splits the rebuild of `projection` in progress into `count` partitions, each with a shadow checkpoint of
 * its own starting at `from` (where the rebuild is), or keeps the partitions of an interrupted partitioned
 * rebuild with the same count.
 */
export function beginPartitions(
  db: Database.Database,
  projection: string,
  count: number,
  from: () => GlobalPosition,
): void {
  if (!Number.isSafeInteger(count) || count < 2)
    throw new RangeError('a partitioned rebuild has 2 or more partitions');
  db.transaction(() => {
    const existing = partitionsOf(db, projection);
    if (existing === count) return;
    if (existing !== undefined)
      throw new Error(
        `the rebuild of ${projection} is split in ${existing} partitions, not ${count}: start it again`,
      );
    const spec = shadowSpec(db, projection);
    if (spec === undefined) throw new Error(`no rebuild of ${projection} in progress`);
    const start = from();
    const insert = db.prepare(
      'INSERT INTO readmodel_projections (name, target, version, checkpoint, spec) VALUES (?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < count; i++)
      insert.run(projection, partitionKey(i, count), spec.version, start, JSON.stringify(spec));
  })();
}

/**
 * Ends a partitioned rebuild whose every partition has applied the log up to `until`: the rebuild's shadow
 * checkpoint becomes `until` and the partitions' checkpoints go, in one transaction.
 */
export function endPartitions(db: Database.Database, projection: string, until: GlobalPosition): void {
  db.transaction(() => {
    const rows = db
      .prepare("SELECT checkpoint FROM readmodel_projections WHERE name = ? AND target LIKE 'shadow:%'")
      .all(projection) as { checkpoint: number }[];
    if (rows.length === 0) throw new Error(`the rebuild of ${projection} is not partitioned`);
    const beyond = rows.find((r) => r.checkpoint > until);
    if (beyond !== undefined)
      throw new Error(`a partition of ${projection} is at ${beyond.checkpoint}, after ${until}`);
    const moved = db
      .prepare(
        "UPDATE readmodel_projections SET checkpoint = max(checkpoint, ?) WHERE name = ? AND target = 'shadow'",
      )
      .run(until, projection);
    if (moved.changes !== 1) throw new Error(`no rebuild of ${projection} in progress`);
    db.prepare("DELETE FROM readmodel_projections WHERE name = ? AND target LIKE 'shadow:%'").run(projection);
  })();
}
