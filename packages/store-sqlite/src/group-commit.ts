/**
 * The write side of the SQLite event store: one group commit of already validated appends.
 *
 * It runs either in the store's own thread (`writer: 'inline'`, and always for ':memory:') or in the writer
 * thread (`writer-thread.ts`). Its input is what crosses the thread boundary: strings and numbers only (no
 * envelopes: the caller's thread validated and canonicalized them), so the structured clone of a group is a
 * copy of flat string arrays. It does everything that needs the current state of the file: expected
 * revisions, idempotency by event id, positions, `recorded_at`.
 */
import Database from 'better-sqlite3';
import type { AppendError, ExpectedRevision, IdempotencyConflict } from '@crm-ledger/core';
import { EVENTS_DDL, INSERT_EVENT_SQL, pragmas } from './schema.js';

/** Fields per event in `WireAppend.rows`. */
export const ROW_FIELDS = 4;

/** One validated append, as it crosses to the writer. */
export interface WireAppend {
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  /** `ROW_FIELDS` strings per event, in order: eventId, type, customerId, canonical JSON body. */
  readonly rows: readonly string[];
}

/** The answer to one append, as it crosses back. Positions of a fresh append are contiguous. */
export type WireOutcome =
  | { readonly k: 'ok'; readonly next: number; readonly first: number; readonly count: number }
  | { readonly k: 'duplicate'; readonly next: number; readonly positions: readonly number[] }
  | {
      readonly k: 'error';
      readonly error: Exclude<AppendError, { type: 'InvalidAppend' | 'StoreUnavailable' }>;
    };

interface StoredRow {
  global_position: number;
  stream_name: string;
  body: string;
}

function expectationMet(expected: ExpectedRevision, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current < 0;
  if (expected === 'stream_exists') return current >= 0;
  return current === expected;
}

/** The writer's connection: the store's pragmas, the schema created if missing. */
export function openWriterConnection(file: string, synchronous: 'full' | 'normal'): Database.Database {
  const db = new Database(file);
  try {
    for (const p of pragmas(synchronous)) db.pragma(p);
    db.exec(EVENTS_DDL);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Commits groups of appends on one connection. Each append is checked completely before or while it writes,
 * and a refused append removes what it wrote itself (no savepoint per append: a savepoint makes SQLite
 * journal every page it touches), so one refused append never affects another; each is atomic and answered
 * on its own. If the transaction itself fails (I/O error, lock timeout), `commit` throws and nothing of the
 * group is written.
 */
export class GroupCommitter {
  private readonly currentRevision: Database.Statement<[string], { revision: number }>;
  private readonly lastRecordedAt: Database.Statement<[], { recorded_at: string }>;
  private readonly insert: Database.Statement<[string, number, string, string, string, string, string]>;
  private readonly deleteFrom: Database.Statement<[number]>;
  private readonly byEventId: Database.Statement<[string], StoredRow>;
  private readonly group: Database.Transaction<
    (now: string, appends: readonly WireAppend[]) => WireOutcome[]
  >;

  constructor(readonly db: Database.Database) {
    this.currentRevision = db.prepare(
      'SELECT revision FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1',
    );
    this.lastRecordedAt = db.prepare('SELECT recorded_at FROM events ORDER BY global_position DESC LIMIT 1');
    this.insert = db.prepare(`${INSERT_EVENT_SQL} ON CONFLICT (event_id) DO NOTHING`);
    // Rows of a refused append are the last rows of the log, written in this transaction.
    this.deleteFrom = db.prepare('DELETE FROM events WHERE global_position >= ?');
    this.byEventId = db.prepare('SELECT global_position, stream_name, body FROM events WHERE event_id = ?');
    this.group = db.transaction((now: string, appends: readonly WireAppend[]) => {
      const last = this.lastRecordedAt.get()?.recorded_at;
      // recorded_at never goes backwards along the log, even if a clock does: positionAt relies on it.
      const recordedAt = last !== undefined && last > now ? last : now;
      const outcomes: WireOutcome[] = [];
      for (const a of appends) outcomes.push(this.appendOne(a, recordedAt));
      return outcomes;
    });
  }

  /** One transaction (`BEGIN IMMEDIATE`) for the whole group: one fsync. Throws if the transaction failed. */
  commit(now: string, appends: readonly WireAppend[]): WireOutcome[] {
    return this.group.immediate(now, appends);
  }

  private appendOne(a: WireAppend, recordedAt: string): WireOutcome {
    const current = this.currentRevision.get(a.streamName)?.revision ?? -1;
    if (!expectationMet(a.expected, current)) {
      // A client retry of an append that already succeeded arrives with a now-stale revision: a duplicate.
      const existing = this.existing(a, current);
      if (existing !== undefined) return existing;
      return {
        k: 'error',
        error: {
          type: 'WrongExpectedRevision',
          streamName: a.streamName,
          expected: a.expected,
          actual: current < 0 ? 'no_stream' : current,
        },
      };
    }
    const rows = a.rows;
    const count = rows.length / ROW_FIELDS;
    let first = 0;
    let revision = current;
    for (let i = 0; i < rows.length; i += ROW_FIELDS) {
      revision += 1;
      const info = this.insert.run(
        a.streamName,
        revision,
        rows[i]!,
        rows[i + 1]!,
        rows[i + 2]!,
        recordedAt,
        rows[i + 3]!,
      );
      if (info.changes === 0) {
        // This event id is stored already: undo what this append wrote so far (the rows at the end of the
        // log, in this transaction, so their positions are free again) and report it as a retry or conflict.
        if (i > 0) this.deleteFrom.run(first);
        const existing = this.existing(a, current);
        if (existing !== undefined) return existing;
        throw new Error('an event id conflicted on insert but is not stored');
      }
      // The writer holds the write lock: the rows of one append get consecutive rowids (max + 1 each).
      if (i === 0) first = Number(info.lastInsertRowid);
    }
    return { k: 'ok', next: current + count, first, count };
  }

  /**
   * Looks the batch's event ids up. `undefined`: none is stored (not a retry).
   * Otherwise: a duplicate when all are stored identically in this stream, else the conflict.
   */
  private existing(a: WireAppend, current: number): WireOutcome | undefined {
    const found: (StoredRow | undefined)[] = [];
    let firstFound = -1;
    for (let i = 0; i < a.rows.length; i += ROW_FIELDS) {
      const row = this.byEventId.get(a.rows[i]!);
      if (row !== undefined && firstFound < 0) firstFound = i;
      found.push(row);
    }
    if (firstFound < 0) return undefined;
    const conflict = (eventId: string, reason: IdempotencyConflict['reason']): WireOutcome => ({
      k: 'error',
      error: { type: 'IdempotencyConflict', eventId, streamName: a.streamName, reason },
    });
    for (let j = 0; j < found.length; j++) {
      const row = found[j];
      if (row === undefined) continue;
      const eventId = a.rows[j * ROW_FIELDS]!;
      if (row.stream_name !== a.streamName) return conflict(eventId, 'different_stream');
      if (row.body !== a.rows[j * ROW_FIELDS + 3]) return conflict(eventId, 'different_content');
    }
    if (found.some((r) => r === undefined)) return conflict(a.rows[firstFound]!, 'partial_batch');
    return { k: 'duplicate', next: current, positions: found.map((r) => r!.global_position) };
  }
}
