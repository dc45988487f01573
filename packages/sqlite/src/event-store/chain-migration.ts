import Database from 'better-sqlite3';
import { GENESIS_LINK, chainLink } from '@crm-ledger/core';

/**
 * Files written before the hash chain existed get their links here, once: the back-fill is recorded in
 * `chain_backfill` so that `crm-ledger verify` can say that the links of those events prove only that they
 * have not changed *since the back-fill*, not since they were appended.
 */
export const CHAIN_BACKFILL_DDL = `
CREATE TABLE IF NOT EXISTS chain_backfill (
  position  INTEGER NOT NULL,
  events    INTEGER NOT NULL,
  linked_at TEXT    NOT NULL
) STRICT;
`;

/** Events linked after the fact when a file without the `hash` column was opened. */
export interface ChainBackfill {
  /** The last global position that was back-filled: every event up to it was stored before the chain. */
  readonly position: number;
  readonly events: number;
  /** When the links were computed (ISO-8601). */
  readonly linkedAt: string;
}

const PAGE = 10_000;

function hasHashColumn(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'hash'").get() !== undefined;
}

/**
 * Adds the `hash` column to an events table from before the chain and links every stored event, in global
 * order, in one write transaction (taken with BEGIN IMMEDIATE and checked again inside it, so two processes
 * opening the same old file migrate it once). A file that has the column is left alone.
 */
export function migrateChain(db: Database.Database, now: () => string): void {
  if (hasHashColumn(db)) return;
  const migrate = db.transaction(() => {
    if (hasHashColumn(db)) return;
    db.exec("ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT ''");
    db.exec(CHAIN_BACKFILL_DDL);
    const page = db.prepare<[number, number], { p: number; s: string; r: number; b: string }>(
      'SELECT global_position AS p, stream_name AS s, revision AS r, body AS b FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?',
    );
    const update = db.prepare<[string, number]>('UPDATE events SET hash = ? WHERE global_position = ?');
    const last = new Map<string, string>();
    let after = 0;
    let events = 0;
    for (;;) {
      const rows = page.all(after, PAGE);
      if (rows.length === 0) break;
      for (const row of rows) {
        const link = chainLink(last.get(row.s) ?? GENESIS_LINK, row.s, row.r, row.b);
        last.set(row.s, link);
        update.run(link, row.p);
      }
      events += rows.length;
      after = rows[rows.length - 1]!.p;
    }
    if (events > 0) {
      db.prepare('INSERT INTO chain_backfill (position, events, linked_at) VALUES (?, ?, ?)').run(
        after,
        events,
        now(),
      );
    }
  });
  migrate.immediate();
}

/** The back-fill of an SQLite ledger file, undefined when every event was linked as it was appended. */
export function readChainBackfill(file: string): ChainBackfill | undefined {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const table = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chain_backfill'")
      .get();
    if (table === undefined) return undefined;
    const row = db
      .prepare<[], { position: number; events: number; linked_at: string }>(
        'SELECT position, events, linked_at FROM chain_backfill ORDER BY position DESC LIMIT 1',
      )
      .get();
    return row === undefined
      ? undefined
      : { position: row.position, events: row.events, linkedAt: row.linked_at };
  } finally {
    db.close();
  }
}
