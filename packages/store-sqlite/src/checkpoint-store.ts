import Database from 'better-sqlite3';
import type { CheckpointStore, GlobalPosition } from '@crm-ledger/core';
import { CHECKPOINTS_DDL, pragmas } from './schema.js';

/**
 * Checkpoints of log consumers (the Kafka relay...) in a SQLite file: it may be the ledger's own file or
 * one of its own. A checkpoint never moves backwards, so a slow, stale writer cannot undo progress.
 */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly db: Database.Database;
  private readonly loadStmt: Database.Statement<[string], { position: number }>;
  private readonly saveStmt: Database.Statement<[string, number]>;

  constructor(file: string) {
    this.db = new Database(file);
    for (const p of pragmas('full')) this.db.pragma(p);
    this.db.exec(CHECKPOINTS_DDL);
    this.loadStmt = this.db.prepare('SELECT position FROM checkpoints WHERE name = ?');
    this.saveStmt = this.db.prepare(
      'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position)',
    );
  }

  load(name: string): Promise<GlobalPosition> {
    return Promise.resolve(this.loadStmt.get(name)?.position ?? 0);
  }

  save(name: string, position: GlobalPosition): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      return Promise.reject(new RangeError('a checkpoint is a non-negative integer position'));
    }
    this.saveStmt.run(name, position);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

export function openSqliteCheckpointStore(file: string): SqliteCheckpointStore {
  return new SqliteCheckpointStore(file);
}
