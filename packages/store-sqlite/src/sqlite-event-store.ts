import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
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
import {
  GroupCommitter,
  ROW_FIELDS,
  openWriterConnection,
  type WireAppend,
  type WireOutcome,
} from './group-commit.js';
import { migrateChain } from './chain-migration.js';
import type { FromWriter, ToWriter, WriterThreadData } from './writer-thread.js';

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

/** At most this many events in one append (one stream, one transaction). */
export const MAX_EVENTS_PER_APPEND = 10_000;
/** Events after which prepared appends are handed to the writer thread without waiting for the task's end. */
const HANDOFF_EVENTS = 2048;
/** Streams whose head the store remembers for `chainAhead`; past this the memory is dropped and starts again. */
const MAX_GUESSED_HEADS = 100_000;
/** At most this many bytes of canonical JSON per event. */
export const MAX_EVENT_BYTES = 1_048_576;

/** At most this many partitions of the log (`readPartition`). */
export const MAX_PARTITIONS = 64;

/**
 * The partition key of an event's customer, in SQL: a mix of the customer id's length and its last three
 * characters, so ids that differ only at the end (c-000001, c-000002, ...) alternate between partitions. Only
 * balance depends on it, never correctness: every event of a customer has the same key. `customerPartition`
 * computes the same in JavaScript (for ids of ASCII characters).
 */
const PARTITION_SQL =
  '(7 * length(customer_id) + 31 * unicode(substr(customer_id, -1)) + 17 * coalesce(unicode(substr(customer_id, -2, 1)), 0) + coalesce(unicode(substr(customer_id, -3, 1)), 0))';

/** The partition (of `count`) that `readPartition` puts an ASCII customer id in. */
export function customerPartition(customerId: string, count: number): number {
  const at = (i: number): number =>
    customerId.length >= i ? customerId.charCodeAt(customerId.length - i) : 0;
  return (7 * customerId.length + 31 * at(1) + 17 * at(2) + at(3)) % count;
}

const COLUMNS =
  'global_position, stream_name, revision, event_id, type, customer_id, recorded_at, body, hash';

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

interface PendingAppend {
  readonly streamName: string;
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

/** A row of `readPartition`: global_position, stream_name, revision, recorded_at, body, hash. */
type PartitionRow = [number, string, number, string, string, string];

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
  /** Validated appends not yet handed to the writer (`queue[i]` is answered for `wires[i]`). */
  private queue: PendingAppend[] = [];
  private wires: WireAppend[] = [];
  private queuedEvents = 0;
  private flushScheduled = false;
  private closed = false;
  private waiters = new Set<() => void>();
  /**
   * The last revision and link this store expects of the streams it appended to (after its queued appends):
   * the guess the caller's thread chains the next append onto (see `WireAppend.links`). Only a guess: another
   * process may have appended since; the writer checks it and recomputes on a miss.
   */
  private readonly heads = new Map<string, { revision: number; link: string }>();
  /** Inline writer: the group commit runs in this thread (':memory:' and `writer: 'inline'`). */
  private readonly inline: GroupCommitter | undefined;
  /** Writer thread, and the appends handed to it, one entry per message, answered in order. */
  private readonly thread: Worker | undefined;
  private readonly inThread: PendingAppend[][] = [];
  /** Why the writer thread is gone, once it is. */
  private writerGone: string | undefined;
  private threadExited: Promise<void> = Promise.resolve();

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
    if (memory || options.writer === 'inline') {
      this.inline = new GroupCommitter(db);
      // A second, read-only connection: reads see committed snapshots and never wait behind a group commit.
      this.reader = memory ? db : new Database(options.file, { readonly: true });
    } else {
      try {
        this.reader = new Database(options.file, { readonly: true });
      } finally {
        db.close();
      }
      this.thread = this.startWriterThread({ file: options.file, synchronous });
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
    if (this.closed) return Promise.resolve(E.left(unavailable('the event store is closed')));
    const expected = options.expectedRevision ?? 'any';
    const prepared = this.prepare(streamName, events, expected);
    if (E.isLeft(prepared)) return Promise.resolve(prepared);
    if (this.writerGone !== undefined) return Promise.resolve(E.left(unavailable(this.writerGone)));
    return new Promise((resolve) => {
      this.queue.push({ streamName, resolve });
      this.wires.push(this.chainAhead({ streamName, expected, rows: prepared.right }));
      this.queuedEvents += events.length;
      // A busy writer thread gets a group as soon as enough appends are ready, so it commits while this
      // thread validates the next ones (waiting for the end of the task would leave the two threads taking
      // turns); groups stay large, because every commit rewrites the index pages it touched into the WAL.
      if (this.thread !== undefined && this.queuedEvents >= HANDOFF_EVENTS) {
        this.flush();
      } else if (!this.flushScheduled) {
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
    const { index, count } = options.partition;
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_PARTITIONS)
      throw new RangeError(`partition count must be an integer from 1 to ${MAX_PARTITIONS}`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= count)
      throw new RangeError(`partition index must be an integer from 0 to ${count - 1}`);
    // Rows as arrays of the columns a StoredEvent needs (no object per row, no id/type/customer copies of what
    // the body holds): this is the read of every thread of a parallel replay.
    const stmt = this.reader
      .prepare<[number, number, number, number, number], PartitionRow>(
        `SELECT global_position, stream_name, revision, recorded_at, body, hash FROM events WHERE global_position > ? AND global_position <= ? AND ${PARTITION_SQL} % ? = ? ORDER BY global_position LIMIT ?`,
      )
      .raw(true);
    return this.pages(options, (after, until, size) => {
      const rows = stmt.all(after, until, count, index, size);
      const events = new Array<StoredEvent>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        events[i] = {
          globalPosition: r[0],
          streamName: r[1],
          revision: r[2],
          recordedAt: r[3],
          event: JSON.parse(r[4]) as RawEnvelope,
          hash: r[5],
        };
      }
      return events;
    });
  }

  private async *pages(
    options: ReadAllOptions,
    page: (after: number, until: number, size: number) => StoredEvent[],
  ): AsyncIterable<readonly StoredEvent[]> {
    let after = options.after ?? 0;
    const until = options.until ?? MAX_POSITION;
    const size = options.batchSize ?? 1000;
    assertPosition(after, 'after');
    assertPosition(until, 'until');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
    while (!this.closed) {
      const events = page(after, until, size);
      if (events.length === 0) return;
      after = events[events.length - 1]!.globalPosition;
      yield events;
      if (events.length < size) return;
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

  /** Stops taking appends, waits until every append already taken is answered, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    await Promise.resolve();
    // The read-only connection closes first, so that the write connection is the file's last: SQLite then
    // checkpoints the WAL into the file and deletes it. Closed the other way round, the last commits would
    // stay in `<file>-wal` (a read-only connection cannot checkpoint), and a copy or move of the file alone
    // would silently lose them.
    if (this.reader !== this.inline?.db) this.reader.close();
    if (this.thread !== undefined) {
      if (this.writerGone === undefined) {
        this.thread.ref();
        this.post({ t: 'close' });
      }
      await this.threadExited;
    }
    if (this.inline !== undefined) this.inline.db.close();
  }

  private prepare(
    streamName: string,
    events: readonly RawEnvelope[],
    expected: ExpectedRevision,
  ): E.Either<InvalidAppend, string[]> {
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
    const rows: string[] = new Array<string>(events.length * ROW_FIELDS);
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
      const at = index * ROW_FIELDS;
      rows[at] = event.eventId;
      rows[at + 1] = event.type;
      rows[at + 2] = event.customerId;
      rows[at + 3] = body;
    }
    return E.right(rows);
  }

  private check(event: unknown): E.Either<readonly ValidationIssue[], RawEnvelope> {
    if (this.validation === 'catalogue') {
      const validated = validateEvent(event);
      return E.isLeft(validated) ? E.left(validated.left.issues) : validated;
    }
    const parsed = RawEnvelope.safeParse(event);
    return parsed.success ? E.right(parsed.data) : E.left(toIssues(parsed.error));
  }

  /**
   * Computes the append's chain links in this thread when the stream's head can be guessed: the stream this
   * store appended to last (its expected revision agreeing), or a new stream (`no_stream`, or `any` for a stream
   * this store has not seen). The writer uses them only if the guess holds (`GroupCommitter`).
   */
  private chainAhead(wire: WireAppend): WireAppend {
    const { streamName, expected, rows } = wire;
    const known = this.heads.get(streamName);
    let after: number;
    let prev: string;
    if (expected === 'no_stream' || (expected === 'any' && known === undefined)) {
      after = -1;
      prev = GENESIS_LINK;
    } else if (
      known !== undefined &&
      (expected === 'any' || expected === 'stream_exists' || expected === known.revision)
    ) {
      after = known.revision;
      prev = known.link;
    } else {
      return wire;
    }
    const count = rows.length / ROW_FIELDS;
    const links = new Array<string>(count);
    let link = prev;
    for (let j = 0; j < count; j++) {
      link = chainLink(link, streamName, after + 1 + j, rows[j * ROW_FIELDS + 3]!);
      links[j] = link;
    }
    if (this.heads.size >= MAX_GUESSED_HEADS) this.heads.clear();
    this.heads.set(streamName, { revision: after + count, link });
    return { streamName, expected, rows, links, linksAfter: after, linksPrev: prev };
  }

  /** Hands the queued appends to the writer as one group (one message to the writer thread). */
  private flush(): void {
    this.flushScheduled = false;
    const group = this.queue;
    // Once handed over, the rows (the bulk of an append) are the writer's: this thread keeps only what it
    // needs to answer, so the bodies die young here instead of being promoted while the group commits.
    const appends = this.wires;
    this.queue = [];
    this.wires = [];
    this.queuedEvents = 0;
    if (group.length === 0) return;
    const now = this.clock.now();
    if (this.inline !== undefined) {
      let outcomes: WireOutcome[];
      try {
        outcomes = this.inline.commit(now, appends);
      } catch (error) {
        // The whole transaction failed (disk full, I/O error, lock timeout): nothing of the group was written.
        this.fail(group, `append failed: ${(error as Error).message}`, error);
        return;
      }
      this.answer(group, outcomes);
      return;
    }
    if (this.writerGone !== undefined) {
      this.fail(group, this.writerGone);
      return;
    }
    if (this.inThread.length === 0) this.thread!.ref();
    this.inThread.push(group);
    this.post({ t: 'append', now, appends });
  }

  private post(message: ToWriter): void {
    this.thread!.postMessage(message);
  }

  private startWriterThread(data: WriterThreadData): Worker {
    // Under vitest this module is the TypeScript source; the thread runs the compiled writer (`pnpm build`).
    const here = import.meta.url;
    const script = here.endsWith('.ts')
      ? new URL('../dist/writer-thread.js', here)
      : new URL('./writer-thread.js', here);
    // The thread inherits the process's Node options, except `--input-type`, which a worker refuses (it
    // is set when the process itself runs `node --input-type=module -e ...`).
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(script, { workerData: data, execArgv });
    // The thread keeps the process alive only while appends wait for it (see flush and onWriterMessage).
    worker.unref();
    worker.on('message', (m: FromWriter) => this.onWriterMessage(m));
    worker.on('error', (error) => this.writerLost(`the writer thread failed: ${error.message}`, error));
    this.threadExited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.writerLost(`the writer thread stopped (exit code ${code})`);
        resolve();
      }),
    );
    return worker;
  }

  private onWriterMessage(m: FromWriter): void {
    if (m.t === 'ready') return;
    const group = this.inThread.shift();
    if (group === undefined) return;
    if (this.inThread.length === 0) this.thread!.unref();
    if (m.t === 'failed') this.fail(group, `append failed: ${m.message}`);
    else this.answer(group, m.outcomes);
  }

  /** The writer thread is gone: every append it holds, and every later one, is answered StoreUnavailable. */
  private writerLost(message: string, cause?: unknown): void {
    if (this.writerGone !== undefined) return;
    this.writerGone = this.closed ? 'the event store is closed' : message;
    for (const group of this.inThread.splice(0)) this.fail(group, message, cause);
  }

  private fail(group: readonly PendingAppend[], message: string, cause?: unknown): void {
    const failure = E.left(unavailable(message, cause));
    for (const p of group) p.resolve(failure);
  }

  private answer(group: readonly PendingAppend[], outcomes: readonly WireOutcome[]): void {
    for (let i = 0; i < group.length; i++) {
      const p = group[i]!;
      const o = outcomes[i]!;
      const streamName = p.streamName;
      switch (o.k) {
        case 'ok': {
          const head = this.heads.get(streamName);
          // Keep a guess that already runs ahead of this answer (later appends of the stream are queued).
          if (head === undefined || head.revision <= o.next)
            this.heads.set(streamName, { revision: o.next, link: o.link });
          const positions = new Array<number>(o.count);
          for (let j = 0; j < o.count; j++) positions[j] = o.first + j;
          p.resolve(E.right({ streamName, nextExpectedRevision: o.next, positions, duplicate: false }));
          break;
        }
        case 'duplicate':
          this.heads.delete(streamName);
          p.resolve(
            E.right({ streamName, nextExpectedRevision: o.next, positions: o.positions, duplicate: true }),
          );
          break;
        case 'error':
          this.heads.delete(streamName);
          p.resolve(E.left(o.error));
          break;
      }
    }
    for (const wake of this.waiters) wake();
    this.waiters.clear();
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
