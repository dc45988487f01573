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
import * as E from 'fp-ts/lib/Either.js';
import {
  GENESIS_LINK,
  chainLink,
  checkExpectedRevision,
  idempotencyConflict,
  type AppendError,
  type ExpectedRevision,
  type IdempotencyConflict,
} from '@crm-ledger/core';
import { EVENTS_DDL, INSERT_EVENT_SQL, pragmas } from './schema.js';

/** Fields per event in `WireAppend.rows`. */
export const ROW_FIELDS = 4;

/**
 * Events per multi-row `INSERT`: an append of 101 events is 4 calls into SQLite instead of 101, which saves
 * the per-call cost of better-sqlite3 (binding, result object) without changing what SQLite stores.
 */
const INSERT_CHUNK = 32;
/** `(?, ?, ...)`: the placeholders of one row of `INSERT_EVENT_SQL`. */
const ROW_PLACEHOLDERS = INSERT_EVENT_SQL.slice(INSERT_EVENT_SQL.indexOf('VALUES') + 'VALUES'.length).trim();
const COLUMNS = ROW_PLACEHOLDERS.split('?').length - 1;
if (COLUMNS !== 8) throw new Error(`group-commit.ts fills 8 columns, INSERT_EVENT_SQL has ${COLUMNS}`);

/** One validated append, as it crosses to the writer. */
export interface WireAppend {
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  /** `ROW_FIELDS` strings per event, in order: eventId, type, customerId, canonical JSON body. */
  readonly rows: readonly string[];
  /**
   * The events' chain links, computed ahead by the caller's thread on the guess that the stream's last revision
   * is `linksAfter` with link `linksPrev` (a stream it wrote last, or a new one). The writer uses them only when
   * that guess is what it finds in the file, and computes the links itself otherwise: the guess moves the
   * SHA-256 work off the writer, it never decides what is stored.
   */
  readonly links?: readonly string[];
  readonly linksAfter?: number;
  readonly linksPrev?: string;
}

/** The answer to one append, as it crosses back. Positions of a fresh append are contiguous. */
export type WireOutcome =
  | {
      readonly k: 'ok';
      readonly next: number;
      readonly first: number;
      readonly count: number;
      /** The stream's last link after the append. */
      readonly link: string;
    }
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
  /** The stream's last revision and its link: what the next event chains to. */
  private readonly currentRevision: Database.Statement<[string], { revision: number; hash: string }>;
  private readonly lastRecordedAt: Database.Statement<[], { recorded_at: string }>;
  /** Multi-row inserts by row count, prepared when first needed, each with its reused parameter array. */
  private readonly inserts: { stmt: Database.Statement<unknown[]>; params: unknown[] }[] = [];
  private readonly deleteFrom: Database.Statement<[number]>;
  private readonly byEventId: Database.Statement<[string], StoredRow>;
  private readonly group: Database.Transaction<
    (now: string, appends: readonly WireAppend[]) => WireOutcome[]
  >;

  constructor(readonly db: Database.Database) {
    this.currentRevision = db.prepare(
      'SELECT revision, hash FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1',
    );
    this.lastRecordedAt = db.prepare('SELECT recorded_at FROM events ORDER BY global_position DESC LIMIT 1');
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
    const head = this.currentRevision.get(a.streamName);
    const current = head?.revision ?? -1;
    const expectation = checkExpectedRevision(a.streamName, a.expected, current < 0 ? 'no_stream' : current);
    if (E.isLeft(expectation)) {
      // A client retry of an append that already succeeded arrives with a now-stale revision: a duplicate.
      return this.existing(a, current) ?? { k: 'error', error: expectation.left };
    }
    const rows = a.rows;
    const count = rows.length / ROW_FIELDS;
    // The writer holds the write lock: the rows it inserts get consecutive rowids (max + 1 each), so the
    // positions of this append are `first ..< first + count`.
    let first = -1;
    // Each event's chain link, from the stream's last link: computed here, where that link is known.
    let link = head?.hash ?? GENESIS_LINK;
    const ahead =
      a.links !== undefined && a.linksAfter === current && a.linksPrev === link ? a.links : undefined;
    for (let e = 0; e < count; e += INSERT_CHUNK) {
      const n = Math.min(INSERT_CHUNK, count - e);
      const insert = this.insertOf(n);
      const params = insert.params;
      let p = 0;
      for (let j = 0, i = e * ROW_FIELDS; j < n; j++, i += ROW_FIELDS) {
        const revision = current + 1 + e + j;
        const body = rows[i + 3]!;
        link = ahead !== undefined ? ahead[e + j]! : chainLink(link, a.streamName, revision, body);
        params[p++] = a.streamName;
        params[p++] = revision;
        params[p++] = rows[i];
        params[p++] = rows[i + 1];
        params[p++] = rows[i + 2];
        params[p++] = recordedAt;
        params[p++] = body;
        params[p++] = link;
      }
      const info = insert.stmt.run(params);
      if (info.changes > 0 && first < 0) first = Number(info.lastInsertRowid) - info.changes + 1;
      if (info.changes !== n) {
        // An event id is stored already: undo what this append wrote so far (the rows at the end of the
        // log, in this transaction, so their positions are free again) and report a retry or a conflict.
        if (first >= 0) this.deleteFrom.run(first);
        const existing = this.existing(a, current);
        if (existing !== undefined) return existing;
        throw new Error('an event id conflicted on insert but is not stored');
      }
    }
    return { k: 'ok', next: current + count, first, count, link };
  }

  private insertOf(n: number): { stmt: Database.Statement<unknown[]>; params: unknown[] } {
    let insert = this.inserts[n];
    if (insert === undefined) {
      const values = Array.from({ length: n }, () => ROW_PLACEHOLDERS).join(', ');
      const sql = `${INSERT_EVENT_SQL.slice(0, INSERT_EVENT_SQL.indexOf('VALUES'))}VALUES ${values} ON CONFLICT (event_id) DO NOTHING`;
      insert = { stmt: this.db.prepare(sql), params: new Array<unknown>(n * COLUMNS) };
      this.inserts[n] = insert;
    }
    return insert;
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
      error: idempotencyConflict(eventId, a.streamName, reason),
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
