import type Database from 'better-sqlite3';
import {
  checkWriteCheckpoint,
  type CellValue,
  type GlobalPosition,
  type ProjectionWrite,
  type Target,
} from '@crm-ledger/core';
import { physical } from './ddl.js';
import type { TableInfo, TableRegistry } from './registry.js';

interface WriteStatements {
  readonly upsert: Database.Statement;
  readonly del: Database.Statement;
}

/**
 * Writes the row changes of `apply` and moves each projection's checkpoint (the caller runs `write` in one
 * transaction). Upsert and delete statements are prepared once per physical table and reused for every row.
 */
export class RowWriter {
  private readonly statements = new Map<string, WriteStatements>();
  private moveCheckpoint: Database.Statement | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly registry: TableRegistry,
    /** The stored checkpoint of a projection's live or shadow tables (this connection's shadow key). */
    private readonly checkpointOf: (projection: string, target: Target) => GlobalPosition,
    /** The `target` of this connection's shadow checkpoint rows: `shadow`, or `shadow:<index>/<count>`. */
    private readonly shadowKey: string,
  ) {}

  /** Forgets the prepared statements (after tables were dropped or renamed). */
  clear(): void {
    this.statements.clear();
  }

  private statementsOf(t: TableInfo, target: Target): WriteStatements {
    const name = physical(t.spec.name, target);
    let w = this.statements.get(name);
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
      this.statements.set(name, w);
    }
    return w;
  }

  readonly write = (writes: readonly ProjectionWrite[]): void => {
    const moveCheckpoint = (this.moveCheckpoint ??= this.db.prepare(
      'UPDATE readmodel_projections SET checkpoint = ? WHERE name = ? AND target = ?',
    ));
    for (const w of writes) {
      const target = w.target ?? 'live';
      checkWriteCheckpoint(w, this.checkpointOf(w.projection, target));
      // Resolve each table once per write, not once per row: the row loop is the replay's hot path.
      const resolved = new Map<
        string,
        { t: TableInfo; w: WriteStatements; names: string[]; values: CellValue[] }
      >();
      for (const change of w.changes) {
        let r = resolved.get(change.table);
        if (r === undefined) {
          const t = this.registry.table(change.table);
          if (t.projection !== w.projection)
            throw new Error(`${change.table} is not a table of ${w.projection}`);
          const names = t.spec.columns.map((c) => c.name);
          r = { t, w: this.statementsOf(t, target), names, values: new Array<CellValue>(names.length) };
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
      const moved = moveCheckpoint.run(
        w.checkpoint,
        w.projection,
        target === 'shadow' ? this.shadowKey : target,
      );
      if (moved.changes !== 1)
        throw new Error(`${w.projection} (${target}) is not set up: ensureProjection/beginRebuild first`);
    }
  };
}
