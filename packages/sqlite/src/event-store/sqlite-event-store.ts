import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import {
  STORE_CLOSED,
  storeUnavailable,
  systemClock,
  validateAppend,
  validateReadStream,
  type AppendError,
  type AppendOptions,
  type AppendResult,
  type Clock,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type InvalidAppend,
  type ReadAllOptions,
  type ReadError,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeOptions,
} from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { GroupCommitter, ROW_FIELDS, openWriterConnection } from './group-commit.js';
import { AppendPipeline } from './append-pipeline.js';
import { migrateChain } from './chain-migration.js';
import { partitionPage } from './partitions.js';
import {
  COLUMNS,
  MAX_POSITION,
  assertPosition,
  readPages,
  toStored,
  type EventRow,
  type Page,
} from './pages.js';

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
  /**
   * `'thread'` (default for files): the write connection and the group commits run in a worker thread of
   * their own, so validation and canonical JSON of the next appends (in the caller's thread) overlap with
   * SQLite's inserts of the current group. `'inline'` (always for ':memory:'): everything in the caller's
   * thread, as one connection.
   */
  readonly writer?: 'thread' | 'inline';
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
 *
 * Two threads share the work of an append (`writer: 'thread'`, the default for files). The caller's thread
 * validates each append against the catalogue and writes its canonical JSON (so bad input is answered at
 * once), then hands the writer thread flat strings; the writer thread owns the write connection and runs the
 * group commits (`GroupCommitter`: revisions, idempotency, positions) while the caller's thread prepares
 * the next appends. An append resolves when its group is committed (fsynced with `synchronous: 'full'`).
 * Reads run in the caller's thread on a read-only connection of their own. If the writer thread dies, every
 * pending and later append is answered `StoreUnavailable`.
 */
export class SqliteEventStore implements EventStore {
  private readonly reader: Database.Database;
  private readonly clock: Clock;
  private readonly validation: 'catalogue' | 'envelope';
  private readonly pollIntervalMs: number;
  private closed = false;
  private waiters = new Set<() => void>();
  /** The write side: validated appends queued, chained ahead and handed to the group commit. */
  private readonly appends: AppendPipeline;

  /** The writer thread, if the group commits run in one (the specs kill it to prove a crash is answered). */
  private get thread(): Worker | undefined {
    return this.appends.thread;
  }

  private readonly stmts: {
    readStream: Database.Statement<[string, number, number], EventRow>;
    page: Database.Statement<[number, number, number], EventRow>;
    head: Database.Statement<[], { p: number }>;
    recordedAtOf: Database.Statement<[number], { recorded_at: string }>;
  };

  constructor(options: SqliteEventStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.validation = options.validation ?? 'catalogue';
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    const synchronous = options.synchronous ?? 'full';
    const memory = options.file === ':memory:';
    // Pragmas and schema are applied here, synchronously, so a bad file fails the constructor.
    const db = openWriterConnection(options.file, synchronous);
    try {
      // A file from before the hash chain gets its links here, once, before any append.
      migrateChain(db, () => this.clock.now());
    } catch (error) {
      db.close();
      throw error;
    }
    const wake = () => {
      for (const w of this.waiters) w();
      this.waiters.clear();
    };
    if (memory || options.writer === 'inline') {
      this.appends = new AppendPipeline(this.clock, { inline: new GroupCommitter(db) }, wake);
      // A second, read-only connection: reads see committed snapshots and never wait behind a group commit.
      this.reader = memory ? db : new Database(options.file, { readonly: true });
    } else {
      try {
        this.reader = new Database(options.file, { readonly: true });
      } finally {
        db.close();
      }
      this.appends = new AppendPipeline(this.clock, { thread: { file: options.file, synchronous } }, wake);
    }
    if (this.reader !== db) this.reader.pragma('busy_timeout = 10000');

    const columns = COLUMNS;
    this.stmts = {
      readStream: this.reader.prepare(
        `SELECT ${columns} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      ),
      page: this.reader.prepare(
        `SELECT ${columns} FROM events WHERE global_position > ? AND global_position <= ? ORDER BY global_position LIMIT ?`,
      ),
      head: this.reader.prepare('SELECT coalesce(max(global_position), 0) AS p FROM events'),
      recordedAtOf: this.reader.prepare('SELECT recorded_at FROM events WHERE global_position = ?'),
    };
  }

  append(
    streamName: string,
    events: readonly RawEnvelope[],
    options: AppendOptions = {},
  ): Promise<E.Either<AppendError, AppendResult>> {
    if (this.closed) return Promise.resolve(E.left(storeUnavailable(STORE_CLOSED)));
    const expected = options.expectedRevision ?? 'any';
    const prepared = this.prepare(streamName, events, expected);
    if (E.isLeft(prepared)) return Promise.resolve(prepared);
    return this.appends.enqueue(streamName, expected, prepared.right);
  }

  async readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<E.Either<ReadError, readonly StoredEvent[]>> {
    if (this.closed) return E.left(storeUnavailable(STORE_CLOSED));
    const read = validateReadStream(streamName, options);
    if (E.isLeft(read)) return read;
    const { from, max } = read.right;
    await Promise.resolve();
    try {
      return E.right(this.stmts.readStream.all(streamName, from, max).map(toStored));
    } catch (error) {
      return E.left(storeUnavailable('reading the stream failed', error));
    }
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    return this.pages(options, (after, until, size) => this.stmts.page.all(after, until, size).map(toStored));
  }

  /**
   * The global log restricted to the customers of one partition (SQLite only): the events whose customer
   * `customerPartition(customerId, count)` puts in partition `index`, in global order, in pages. The
   * partitions of one `count` split the log by customer, each event in exactly one, every customer's events
   * all in the same one: a parallel replay gives each thread a partition, and the thread reads and parses only
   * its own events (SQLite skips the others without decoding their bodies).
   */
  readPartition(
    options: ReadAllOptions & { readonly partition: { readonly index: number; readonly count: number } },
  ): AsyncIterable<readonly StoredEvent[]> {
    return this.pages(options, partitionPage(this.reader, options.partition));
  }

  private pages(options: ReadAllOptions, page: Page): AsyncIterable<readonly StoredEvent[]> {
    return readPages(options, page, () => !this.closed);
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

  /** Stops taking appends, waits until every append already taken is answered, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.appends.stop();
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    await Promise.resolve();
    // The read-only connection closes first, so that the write connection is the file's last: SQLite then
    // checkpoints the WAL into the file and deletes it. Closed the other way round, the last commits would
    // stay in `<file>-wal` (a read-only connection cannot checkpoint), and a copy or move of the file alone
    // would silently lose them.
    if (this.reader !== this.appends.inlineDb) this.reader.close();
    await this.appends.close();
  }

  /** Checks the append against the port's rules (`validateAppend`) and flattens it into the writer's rows. */
  private prepare(
    streamName: string,
    events: readonly RawEnvelope[],
    expected: ExpectedRevision,
  ): E.Either<InvalidAppend, string[]> {
    const valid = validateAppend(streamName, events, expected, this.validation);
    if (E.isLeft(valid)) return valid;
    const { events: parsed, bodies } = valid.right;
    const rows: string[] = new Array<string>(parsed.length * ROW_FIELDS);
    for (let index = 0, at = 0; index < parsed.length; index++, at += ROW_FIELDS) {
      const event = parsed[index]!;
      rows[at] = event.eventId;
      rows[at + 1] = event.type;
      rows[at + 2] = event.customerId;
      rows[at + 3] = bodies[index]!;
    }
    return E.right(rows);
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

/** Opens (creating if needed) the embedded event store on one SQLite file. */
export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}
