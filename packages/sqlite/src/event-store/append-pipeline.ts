import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import {
  GENESIS_LINK,
  STORE_CLOSED,
  chainLink,
  storeUnavailable,
  type AppendError,
  type AppendResult,
  type Clock,
  type ExpectedRevision,
} from '@crm-ledger/core';
import { ROW_FIELDS, type GroupCommitter, type WireAppend, type WireOutcome } from './group-commit.js';
import type { FromWriter, ToWriter, WriterThreadData } from './writer-thread.js';

/** Events after which prepared appends are handed to the writer thread without waiting for the task's end. */
const HANDOFF_EVENTS = 2048;
/** Streams whose head the store remembers for `chainAhead`; past this the memory is dropped and starts again. */
const MAX_GUESSED_HEADS = 100_000;

interface PendingAppend {
  readonly streamName: string;
  readonly resolve: (result: E.Either<AppendError, AppendResult>) => void;
}

/** Where the group commits run: in this thread (`inline`), or in a writer thread of their own. */
export type Writer = { readonly inline: GroupCommitter } | { readonly thread: WriterThreadData };

/**
 * The write side of `SqliteEventStore`, in the caller's thread: validated appends are queued, their chain links
 * computed ahead when the stream's head can be guessed, and handed to the group commit in groups (to the writer
 * thread as one message each); the outcomes come back in order and answer each append. If the writer thread
 * dies, every pending and later append is answered `StoreUnavailable`.
 */
export class AppendPipeline {
  /** Validated appends not yet handed to the writer (`queue[i]` is answered for `wires[i]`). */
  private queue: PendingAppend[] = [];
  private wires: WireAppend[] = [];
  private queuedEvents = 0;
  private flushScheduled = false;
  /** Set by `stop`: no more appends are taken. */
  private stopped = false;
  /**
   * The last revision and link this store expects of the streams it appended to (after its queued appends):
   * the guess the caller's thread chains the next append onto (see `WireAppend.links`). Only a guess: another
   * process may have appended since; the writer checks it and recomputes on a miss.
   */
  private readonly heads = new Map<string, { revision: number; link: string }>();
  /** Inline writer: the group commit runs in this thread (':memory:' and `writer: 'inline'`). */
  private readonly inline: GroupCommitter | undefined;
  /** Writer thread, and the appends handed to it, one entry per message, answered in order. */
  readonly thread: Worker | undefined;
  private readonly inThread: PendingAppend[][] = [];
  /** Why the writer thread is gone, once it is. */
  private writerGone: string | undefined;
  private threadExited: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    writer: Writer,
    /** Told after every group is answered (live subscriptions wake up). */
    private readonly onAnswered: () => void,
  ) {
    if ('inline' in writer) this.inline = writer.inline;
    else this.thread = this.startWriterThread(writer.thread);
  }

  /** The write connection when the group commits run in this thread (':memory:' reads on it too). */
  get inlineDb(): Database.Database | undefined {
    return this.inline?.db;
  }

  /** Queues a validated append (its rows, `ROW_FIELDS` per event); resolves when its group is committed. */
  enqueue(
    streamName: string,
    expected: ExpectedRevision,
    rows: string[],
  ): Promise<E.Either<AppendError, AppendResult>> {
    if (this.writerGone !== undefined) return Promise.resolve(E.left(storeUnavailable(this.writerGone)));
    return new Promise((resolve) => {
      this.queue.push({ streamName, resolve });
      this.wires.push(this.chainAhead({ streamName, expected, rows }));
      this.queuedEvents += rows.length / ROW_FIELDS;
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

  /** Hands what is queued to the writer and takes no more appends. */
  stop(): void {
    if (this.queue.length > 0) this.flush();
    this.stopped = true;
  }

  /** Waits until every append handed over is answered, then closes the write connection. */
  async close(): Promise<void> {
    if (this.thread !== undefined) {
      if (this.writerGone === undefined) {
        this.thread.ref();
        this.post({ t: 'close' });
      }
      await this.threadExited;
    }
    if (this.inline !== undefined) this.inline.db.close();
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
      ? new URL('../../dist/event-store/writer-thread.js', here)
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
    this.writerGone = this.stopped ? STORE_CLOSED : message;
    for (const group of this.inThread.splice(0)) this.fail(group, message, cause);
  }

  private fail(group: readonly PendingAppend[], message: string, cause?: unknown): void {
    const failure = E.left(storeUnavailable(message, cause));
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
    this.onAnswered();
  }
}
