import Database from 'better-sqlite3';
import type { DigestStore, LedgerDigest } from '@crm-ledger/core';
import { pragmas } from './schema.js';

/** Digests of the global log recorded by the notary: only ever appended, numbered 1, 2, 3... */
export const DIGESTS_DDL = `
CREATE TABLE IF NOT EXISTS ledger_digests (
  number      INTEGER PRIMARY KEY,
  position    INTEGER NOT NULL,
  count       INTEGER NOT NULL,
  digest      TEXT    NOT NULL,
  recorded_at TEXT    NOT NULL
) STRICT;
`;

interface DigestRow {
  number: number;
  position: number;
  count: number;
  digest: string;
  recorded_at: string;
}

const toDigest = (r: DigestRow): LedgerDigest => ({
  number: r.number,
  position: r.position,
  count: r.count,
  digest: r.digest,
  recordedAt: r.recorded_at,
});

/**
 * The digest store in a SQLite file, normally the ledger's own (`ledger_digests` beside `events`), on a
 * connection of its own: the notary's small transactions never join the event store's group commits.
 */
export class SqliteDigestStore implements DigestStore {
  private readonly db: Database.Database;
  private readonly lastStmt: Database.Statement<[], DigestRow>;
  private readonly allStmt: Database.Statement<[], DigestRow>;
  private readonly insert: (d: LedgerDigest) => void;

  constructor(file: string) {
    this.db = new Database(file);
    for (const p of pragmas('full')) this.db.pragma(p);
    this.db.exec(DIGESTS_DDL);
    const columns = 'number, position, count, digest, recorded_at';
    this.lastStmt = this.db.prepare(`SELECT ${columns} FROM ledger_digests ORDER BY number DESC LIMIT 1`);
    this.allStmt = this.db.prepare(`SELECT ${columns} FROM ledger_digests ORDER BY number`);
    const insertStmt = this.db.prepare<[number, number, number, string, string]>(
      'INSERT INTO ledger_digests (number, position, count, digest, recorded_at) VALUES (?, ?, ?, ?, ?)',
    );
    const insert = this.db.transaction((d: LedgerDigest) => {
      const last = this.lastStmt.get();
      if (d.number !== (last?.number ?? 0) + 1 || d.position <= (last?.position ?? 0)) {
        throw new Error(
          `digest ${d.number} at position ${d.position} does not follow digest ${last?.number ?? 0} at position ${last?.position ?? 0} (is another notary running on this ledger?)`,
        );
      }
      insertStmt.run(d.number, d.position, d.count, d.digest, d.recordedAt);
    });
    this.insert = (d) => insert.immediate(d);
  }

  last(): Promise<LedgerDigest | undefined> {
    const row = this.lastStmt.get();
    return Promise.resolve(row === undefined ? undefined : toDigest(row));
  }

  all(): Promise<readonly LedgerDigest[]> {
    return Promise.resolve(this.allStmt.all().map(toDigest));
  }

  record(digest: LedgerDigest): Promise<void> {
    // A throw inside the executor (a digest out of order, an I/O error) rejects the promise.
    return new Promise((resolve) => {
      this.insert(digest);
      resolve();
    });
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

/** Opens (creating the table if needed) the digest store in a SQLite file, e.g. the ledger's. */
export function openSqliteDigestStore(file: string): SqliteDigestStore {
  return new SqliteDigestStore(file);
}
