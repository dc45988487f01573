import { setImmediate as nextMacrotask } from 'node:timers/promises';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import {
  GENESIS_LINK,
  canonicalJson,
  chainLink,
  systemClock,
  type AppendError,
  type AppendOptions,
  type AppendResult,
  type Clock,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type IdempotencyConflict,
  type InvalidAppend,
  type ReadAllOptions,
  type ReadError,
  type ReadStreamOptions,
  type StoreUnavailable,
  type StoredEvent,
  type SubscribeOptions,
} from '@crm-ledger/core';
import {
  CUSTOMER_STREAM_PREFIX,
  RawEnvelope,
  toIssues,
  validateEvent,
  type ValidationIssue,
} from '@crm-ledger/events';
import { migrateChain } from './chain-migration.js';
import { EVENTS_DDL, INSERT_EVENT_SQL, pragmas } from './schema.js';

export interface SqliteEventStoreOptions {
  /** Path of the SQLite file (created if missing), or ':memory:' for a private in-memory store. */
  readonly file: string;
  /**
   * `'full'` (default): the WAL is fsynced at every commit, so an event is on disk when `append` returns,
   * even across a power loss. `'normal'`: fsync only at checkpoints; survives a process crash but may lose
   * the last commits on power loss or an OS crash. See the package README for the measured cost.
   */
  readonly synchronous?: 'full' | 'normal';
  /** Stamps `recordedAt`. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * `'catalogue'` (default): every event is validated against the zod catalogue at its declared version.
   * `'envelope'`: only the envelope is checked, for callers that validated already (the ingest API).
   */
  readonly validation?: 'catalogue' | 'envelope';
  /** How often a live subscription looks for events appended by other processes. Default 200 ms. */
  readonly pollIntervalMs?: number;
}

/** At most this many events in one append (one stream, one transaction). */
export const MAX_EVENTS_PER_APPEND = 10_000;
/** At most this many bytes of canonical JSON per event. */
export const MAX_EVENT_BYTES = 1_048_576;

const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
const MAX_POSITION = Number.MAX_SAFE_INTEGER;

interface EventRow {
  global_position: number;
  stream_name: string;
  revision: number;
  event_id: string;
  type: string;
  customer_id: string;
  recorded_at: string;
  body: string;
  hash: string;
}

interface PreparedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly customerId: string;
  readonly body: string;
}

interface PendingAppend {
  readonly streamName: string;
  readonly events: readonly PreparedEvent[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: E.Either<AppendError, AppendResult>) => void;
}

const invalid = (message: string, extra: Partial<InvalidAppend> = {}): InvalidAppend => ({
  type: 'InvalidAppend',
  message,
  ...extra,
});

const unavailable = (message: string, cause?: unknown): StoreUnavailable => ({
  type: 'StoreUnavailable',
  message,
  cause,
});

function toStored(row: EventRow): StoredEvent {
  return {
    globalPosition: row.global_position,
    streamName: row.stream_name,
    revision: row.revision,
    recordedAt: row.recorded_at,
    event: JSON.parse(row.body) as RawEnvelope,
    hash: row.hash,
  };
}

function isValidExpected(expected: unknown): expected is ExpectedRevision {
  return (
    expected === 'any' ||
    expected === 'no_stream' ||
    expected === 'stream_exists' ||
    (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0)
  );
}

function expectationMet(expected: ExpectedRevision, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current < 0;
  if (expected === 'stream_exists') return current >= 0;
  return current === expected;
}

/**
 * The embedded event store: one SQLite file in WAL mode.
 *
 * Appends are **group-committed**: appends issued while a commit is pending are written in one SQLite
 * transaction, which pays the fsync once for the group. Each append is checked completely before it
 * writes anything, so one refused append never affects another; each is atomic and answered on its own.
 * Should the transaction itself fail (I/O error), nothing of the group is written and every append in it
 * is answered `StoreUnavailable`.
 * Writers take SQLite's write lock with `BEGIN IMMEDIATE`, so several processes on the same file stay
 * correct: the unique (stream, revision) index makes racing appends fail rather than fork a stream.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly reader: Database.Database;
  private readonly clock: Clock;
  private readonly validation: 'catalogue' | 'envelope';
  private readonly pollIntervalMs: number;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private waiters = new Set<() => void>();

  private readonly stmts: {
    /** The stream's last revision and its link: what the next event chains to. */
    currentRevision: Database.Statement<[string], { revision: number; hash: string }>;
    lastRecordedAt: Database.Statement<[], { recorded_at: string }>;
    insert: Database.Statement<[string, number, string, string, string, string, string, string]>;
    deleteAt: Database.Statement<[number]>;
    byEventId: Database.Statement<[string], EventRow>;
    readStream: Database.Statement<[string, number, number], EventRow>;
    page: Database.Statement<[number, number, number], EventRow>;
    head: Database.Statement<[], { p: number }>;
    recordedAtOf: Database.Statement<[number], { recorded_at: string }>;
  };

  private readonly commitGroup: (group: readonly PendingAppend[]) => E.Either<AppendError, AppendResult>[];
  /** Inserts one append's events; `undefined` (having written nothing) when an event id is already stored. */
  private readonly insertBatch: (
    pending: PendingAppend,
    current: number,
    currentLink: string,
    recordedAt: string,
  ) => number[] | undefined;

  constructor(options: SqliteEventStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.validation = options.validation ?? 'catalogue';
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.db = new Database(options.file);
    for (const p of pragmas(options.synchronous ?? 'full')) this.db.pragma(p);
    this.db.exec(EVENTS_DDL);
    migrateChain(this.db, () => this.clock.now());
    // A second, read-only connection: reads see committed snapshots and never wait behind a group commit.
    this.reader = options.file === ':memory:' ? this.db : new Database(options.file, { readonly: true });
    if (this.reader !== this.db) this.reader.pragma('busy_timeout = 10000');

    const columns =
      'global_position, stream_name, revision, event_id, type, customer_id, recorded_at, body, hash';
    this.stmts = {
      currentRevision: this.db.prepare(
        'SELECT revision, hash FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1',
      ),
      lastRecordedAt: this.db.prepare('SELECT recorded_at FROM events ORDER BY global_position DESC LIMIT 1'),
      insert: this.db.prepare(`${INSERT_EVENT_SQL} ON CONFLICT (event_id) DO NOTHING`),
      deleteAt: this.db.prepare('DELETE FROM events WHERE global_position = ?'),
      byEventId: this.db.prepare(`SELECT ${columns} FROM events WHERE event_id = ?`),
      readStream: this.reader.prepare(
        `SELECT ${columns} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      ),
      page: this.reader.prepare(
        `SELECT ${columns} FROM events WHERE global_position > ? AND global_position <= ? ORDER BY global_position LIMIT ?`,
      ),
      head: this.reader.prepare('SELECT coalesce(max(global_position), 0) AS p FROM events'),
      recordedAtOf: this.reader.prepare('SELECT recorded_at FROM events WHERE global_position = ?'),
    };

    this.insertBatch = (pending: PendingAppend, current: number, currentLink: string, recordedAt: string) => {
      const positions: number[] = [];
      let revision = current;
      let link = currentLink;
      for (const e of pending.events) {
        revision += 1;
        link = chainLink(link, pending.streamName, revision, e.body);
        const info = this.stmts.insert.run(
          pending.streamName,
          revision,
          e.eventId,
          e.type,
          e.customerId,
          recordedAt,
          e.body,
          link,
        );
        if (info.changes === 0) {
          // This event id is stored already: undo what this append wrote so far (the rows at the end of
          // the log, in this transaction, so their positions are free again) and report it as a retry.
          for (const p of positions) this.stmts.deleteAt.run(p);
          return undefined;
        }
        positions.push(Number(info.lastInsertRowid));
      }
      return positions;
    };

    const group = this.db.transaction((pendings: readonly PendingAppend[]) => {
      const last = this.stmts.lastRecordedAt.get()?.recorded_at;
      const now = this.clock.now();
      // recorded_at never goes backwards along the log, even if a clock does: positionAt relies on it.
      const recordedAt = last !== undefined && last > now ? last : now;
      return pendings.map((p) => this.appendOne(p, recordedAt));
    });
    this.commitGroup = (pendings) => group.immediate(pendings);
  }

  append(
    streamName: string,
    events: readonly RawEnvelope[],
    options: AppendOptions = {},
  ): Promise<E.Either<AppendError, AppendResult>> {
    if (this.closed) return Promise.resolve(E.left(unavailable('the event store is closed')));
    const prepared = this.prepare(streamName, events, options.expectedRevision ?? 'any');
    if (E.isLeft(prepared)) return Promise.resolve(prepared);
    return new Promise((resolve) => {
      this.queue.push({
        streamName,
        events: prepared.right,
        expected: options.expectedRevision ?? 'any',
        resolve,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<E.Either<ReadError, readonly StoredEvent[]>> {
    if (this.closed) return E.left(unavailable('the event store is closed'));
    const from = options.fromRevision ?? 0;
    const max = options.maxCount ?? MAX_POSITION;
    if (typeof streamName !== 'string' || !STREAM_NAME.test(streamName))
      return E.left(invalid('invalid stream name'));
    if (!Number.isSafeInteger(from) || from < 0)
      return E.left(invalid('fromRevision must be a non-negative integer'));
    if (!Number.isSafeInteger(max) || max < 1) return E.left(invalid('maxCount must be a positive integer'));
    await Promise.resolve();
    try {
      return E.right(this.stmts.readStream.all(streamName, from, max).map(toStored));
    } catch (error) {
      return E.left(unavailable('reading the stream failed', error));
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    let after = options.after ?? 0;
    const until = options.until ?? MAX_POSITION;
    const size = options.batchSize ?? 1000;
    assertPosition(after, 'after');
    assertPosition(until, 'until');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
    while (!this.closed) {
      const rows = this.stmts.page.all(after, until, size);
      if (rows.length === 0) return;
      const events = rows.map(toStored);
      after = events[events.length - 1]!.globalPosition;
      yield events;
      if (rows.length < size) return;
      // Let timers and I/O run between pages: a long replay must not starve a server in the same process.
      await nextMacrotask();
    }
  }

  async *subscribe(options: SubscribeOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    let after = options.after ?? 0;
    const size = options.batchSize ?? 1000;
    const signal = options.signal;
    assertPosition(after, 'after');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
    let announced = false;
    while (!this.closed && signal?.aborted !== true) {
      const rows = this.stmts.page.all(after, MAX_POSITION, size);
      if (rows.length > 0) {
        const events = rows.map(toStored);
        after = events[events.length - 1]!.globalPosition;
        announced = false;
        yield events;
        await nextMacrotask();
        continue;
      }
      if (!announced) {
        options.onCaughtUp?.(after);
        announced = true;
      }
      await this.waitForAppend(signal);
    }
  }

  headPosition(): Promise<GlobalPosition> {
    return Promise.resolve(this.stmts.head.get()?.p ?? 0);
  }

  positionAt(time: string): Promise<GlobalPosition> {
    const ms = Date.parse(time);
    if (typeof time !== 'string' || Number.isNaN(ms)) {
      return Promise.reject(new RangeError(`positionAt: '${String(time)}' is not an ISO-8601 time`));
    }
    const target = new Date(ms).toISOString();
    // Positions are contiguous (rowids of a table that is never deleted from) and recorded_at never
    // decreases along them: binary search for the last position recorded at or before the target.
    let lo = 0;
    let hi = this.stmts.head.get()?.p ?? 0;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const at = this.stmts.recordedAtOf.get(mid)?.recorded_at;
      if (at !== undefined && at <= target) lo = mid;
      else hi = mid - 1;
    }
    return Promise.resolve(lo);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    await Promise.resolve();
    if (this.reader !== this.db) this.reader.close();
    this.db.close();
  }

  private prepare(
    streamName: string,
    events: readonly RawEnvelope[],
    expected: ExpectedRevision,
  ): E.Either<InvalidAppend, PreparedEvent[]> {
    if (typeof streamName !== 'string' || !STREAM_NAME.test(streamName)) {
      return E.left(invalid(`invalid stream name '${String(streamName)}': 1-200 of A-Z a-z 0-9 . _ : @ -`));
    }
    if (!isValidExpected(expected)) {
      return E.left(
        invalid("expectedRevision must be 'any', 'no_stream', 'stream_exists' or a revision >= 0"),
      );
    }
    if (!Array.isArray(events) || events.length === 0)
      return E.left(invalid('an append needs at least one event'));
    if (events.length > MAX_EVENTS_PER_APPEND) {
      return E.left(invalid(`at most ${MAX_EVENTS_PER_APPEND} events per append, got ${events.length}`));
    }
    const prepared: PreparedEvent[] = [];
    const ids = new Set<string>();
    for (let index = 0; index < events.length; index++) {
      const checked = this.check(events[index]);
      if (E.isLeft(checked))
        return E.left(invalid(`event ${index} is invalid`, { index, issues: checked.left }));
      const event = checked.right;
      if (
        streamName.startsWith(CUSTOMER_STREAM_PREFIX) &&
        streamName !== CUSTOMER_STREAM_PREFIX + event.customerId
      ) {
        return E.left(
          invalid(`event ${index} belongs to customer '${event.customerId}', not to stream ${streamName}`, {
            index,
          }),
        );
      }
      if (ids.has(event.eventId))
        return E.left(invalid(`event ${index} repeats eventId ${event.eventId}`, { index }));
      ids.add(event.eventId);
      let body: string;
      try {
        body = canonicalJson(event);
      } catch (error) {
        return E.left(invalid(`event ${index} is not JSON: ${(error as Error).message}`, { index }));
      }
      if (body.length > MAX_EVENT_BYTES) {
        return E.left(invalid(`event ${index} is larger than ${MAX_EVENT_BYTES} bytes`, { index }));
      }
      prepared.push({ eventId: event.eventId, type: event.type, customerId: event.customerId, body });
    }
    return E.right(prepared);
  }

  private check(event: unknown): E.Either<readonly ValidationIssue[], RawEnvelope> {
    if (this.validation === 'catalogue') {
      const validated = validateEvent(event);
      return E.isLeft(validated) ? E.left(validated.left.issues) : validated;
    }
    const parsed = RawEnvelope.safeParse(event);
    return parsed.success ? E.right(parsed.data) : E.left(toIssues(parsed.error));
  }

  private flush(): void {
    this.flushScheduled = false;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    let results: E.Either<AppendError, AppendResult>[];
    try {
      results = this.commitGroup(group);
    } catch (error) {
      // The whole transaction failed (disk full, I/O error, lock timeout): nothing of the group was written.
      const failure = E.left(unavailable(`append failed: ${(error as Error).message}`, error));
      for (const p of group) p.resolve(failure);
      return;
    }
    group.forEach((p, i) => p.resolve(results[i]!));
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** One append inside the group transaction. A Left leaves nothing of this append behind. */
  private appendOne(pending: PendingAppend, recordedAt: string): E.Either<AppendError, AppendResult> {
    const head = this.stmts.currentRevision.get(pending.streamName);
    const current = head?.revision ?? -1;
    if (!expectationMet(pending.expected, current)) {
      // A client retry of an append that already succeeded arrives with a now-stale revision: it is a duplicate.
      const existing = this.existing(pending, current);
      if (existing !== undefined) return existing;
      return E.left({
        type: 'WrongExpectedRevision',
        streamName: pending.streamName,
        expected: pending.expected,
        actual: current < 0 ? 'no_stream' : current,
      });
    }
    // Every way an append can be refused is found before or while it writes, and a refused append removes
    // what it wrote itself: no savepoint per append (a savepoint makes SQLite journal every page it
    // touches). Ids stored earlier in this same group are seen too, being in this transaction.
    const positions = this.insertBatch(pending, current, head?.hash ?? GENESIS_LINK, recordedAt);
    if (positions === undefined) {
      const existing = this.existing(pending, current);
      if (existing !== undefined) return existing;
      throw new Error('an event id conflicted on insert but is not stored');
    }
    return E.right({
      streamName: pending.streamName,
      nextExpectedRevision: current + pending.events.length,
      positions,
      duplicate: false,
    });
  }

  /**
   * Looks the batch's event ids up. `undefined`: none is stored (not a retry).
   * Otherwise: a duplicate result when all are stored identically in this stream, else the conflict.
   */
  private existing(pending: PendingAppend, current: number): E.Either<AppendError, AppendResult> | undefined {
    const rows = pending.events.map((e) => this.stmts.byEventId.get(e.eventId));
    const firstFound = rows.findIndex((r) => r !== undefined);
    if (firstFound < 0) return undefined;
    const conflict = (eventId: string, reason: IdempotencyConflict['reason']) =>
      E.left<AppendError>({ type: 'IdempotencyConflict', eventId, streamName: pending.streamName, reason });
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const event = pending.events[i]!;
      if (row === undefined) continue;
      if (row.stream_name !== pending.streamName) return conflict(event.eventId, 'different_stream');
      if (row.body !== event.body) return conflict(event.eventId, 'different_content');
    }
    const missing = rows.findIndex((r) => r === undefined);
    if (missing >= 0) return conflict(pending.events[firstFound]!.eventId, 'partial_batch');
    return E.right({
      streamName: pending.streamName,
      nextExpectedRevision: current,
      positions: rows.map((r) => r!.global_position),
      duplicate: true,
    });
  }

  private waitForAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // Appends by this process wake us at once; appends by other processes are seen at the next poll.
      const timer = setTimeout(done, this.pollIntervalMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function assertPosition(p: number, name: string): void {
  if (!Number.isSafeInteger(p) || p < 0)
    throw new RangeError(`${name} must be a non-negative integer position`);
}

/** Opens (creating if needed) the embedded event store on one SQLite file. */
export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}
