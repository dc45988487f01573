/**
 * The events table. One row per event; the envelope is stored as canonical JSON (sorted keys), exactly as
 * appended, never rewritten. `global_position` is the rowid: strictly increasing in commit order because
 * SQLite has one writer at a time. Two unique indexes enforce the two invariants the port promises:
 * one event per (stream, revision) — no gaps, no forks — and one event per event id — idempotency.
 * `recorded_at` is kept non-decreasing along `global_position` by the store, so "position at time" is a
 * binary search over the primary key and needs no index of its own.
 * `hash` is the event's chain link (`chainLink` of @crm-ledger/core) over the previous link of its stream and
 * `body`; files from before the chain get the column from `migrateChain`.
 */
export const EVENTS_DDL = `
CREATE TABLE IF NOT EXISTS events (
  global_position INTEGER PRIMARY KEY,
  stream_name     TEXT    NOT NULL,
  revision        INTEGER NOT NULL,
  event_id        TEXT    NOT NULL,
  type            TEXT    NOT NULL,
  customer_id     TEXT    NOT NULL,
  recorded_at     TEXT    NOT NULL,
  body            TEXT    NOT NULL,
  hash            TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_name, revision);
CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id);
`;

export const CHECKPOINTS_DDL = `
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT    PRIMARY KEY,
  position INTEGER NOT NULL
) STRICT;
`;

export const INSERT_EVENT_SQL =
  'INSERT INTO events (stream_name, revision, event_id, type, customer_id, recorded_at, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/** Pragmas of every connection. `synchronous` is chosen by the caller (see README of the package). */
export function pragmas(synchronous: 'full' | 'normal'): string[] {
  return [
    'journal_mode = WAL',
    `synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`,
    'busy_timeout = 10000',
    'foreign_keys = ON',
    'cache_size = -65536',
    'temp_store = MEMORY',
    'wal_autocheckpoint = 10000',
  ];
}
