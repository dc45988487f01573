import Database from 'better-sqlite3';
import type { CheckpointLock, CheckpointStore, GlobalPosition } from '@crm-ledger/core';
import { CHECKPOINTS_DDL, pragmas } from './event-store/schema.js';

/**
 * Checkpoints of log consumers (the Kafka relay...) in a SQLite file: it may be the ledger's own file or
 * one of its own. A checkpoint never moves backwards, so a slow, stale writer cannot undo progress.
 */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly db: Database.Database;
  private readonly loadStmt: Database.Statement<[string], { position: number }>;
  private readonly saveStmt: Database.Statement<[string, number]>;
  private readonly locks = new Set<Database.Database>();

  constructor(private readonly file: string) {
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

  /**
   * The lock is SQLite's own exclusive file lock on `<file>.<name>.lock`: a dedicated connection begins an EXCLUSIVE
   * transaction and never ends it. Another process's attempt fails at once (busy timeout 0); the operating system
   * frees the lock when the holder dies, however it dies.
   */
  tryLock(name: string): Promise<CheckpointLock | undefined> {
    const db = new Database(`${this.file}.${encodeURIComponent(name)}.lock`);
    try {
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return Promise.resolve(undefined);
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.locks.add(db);
    const lost = new AbortController();
    return Promise.resolve({
      lost: lost.signal,
      release: () => {
        if (this.locks.delete(db)) db.close();
        return Promise.resolve();
      },
    });
  }

  close(): Promise<void> {
    for (const lock of this.locks) lock.close();
    this.locks.clear();
    this.db.close();
    return Promise.resolve();
  }
}

export function openSqliteCheckpointStore(file: string): SqliteCheckpointStore {
  return new SqliteCheckpointStore(file);
}
