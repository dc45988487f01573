import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GlobalPosition, StoredEvent } from '@crm-ledger/core';
import type { WriteLock } from '@crm-ledger/sqlite';
import { MAX_PARTITIONS } from '@crm-ledger/sqlite';
import type { ProjectionName } from '@crm-ledger/projections';
import type { BuildReport } from './replay.js';

/** Where the threads of a parallel replay find the log and the read model. */
export interface ParallelReplay {
  /** The SQLite event store file (each thread opens it read-only for itself). */
  readonly storeFile: string;
  /** The SQLite read-model file: the same database as the `readModel` given to `replay`. */
  readonly readModelFile: string;
  readonly synchronous?: 'full' | 'normal';
  /** Threads, one partition of the customers each (default: the cores available, at most 64). One thread = no worker at all. */
  readonly threads?: number;
}

/** The threads of a parallel replay: as asked, else the cores available; at least 1, at most 64. */
export function replayThreads(parallel: ParallelReplay | undefined): number {
  if (parallel === undefined) return 1;
  const asked = parallel.threads ?? availableParallelism();
  if (!Number.isSafeInteger(asked) || asked < 1) throw new RangeError('threads must be a positive integer');
  return Math.min(asked, MAX_PARTITIONS);
}

/** A mutex over a SharedArrayBuffer: threads wait in `Atomics.wait` and are woken at once on release. */
export class SharedMutex implements WriteLock {
  private readonly cell: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }
  acquire(): void {
    while (Atomics.compareExchange(this.cell, 0, 0, 1) !== 0) Atomics.wait(this.cell, 0, 1);
  }
  release(): void {
    Atomics.store(this.cell, 0, 0);
    Atomics.notify(this.cell, 0, 1);
  }
}

/** Sent to each worker (structured clone). */
export interface WorkerTask {
  readonly storeFile: string;
  readonly readModelFile: string;
  readonly synchronous: 'full' | 'normal';
  readonly projections: readonly ProjectionName[];
  /** The customers (and so the events) of this thread: partition `index` of `count`. */
  readonly partition: { readonly index: number; readonly count: number };
  readonly until: GlobalPosition;
  /** Business time of the cut (see `ReplayOptions.asOf`). */
  readonly asOf?: string;
  readonly batchSize: number;
  readonly cacheSize?: number;
  readonly lock: SharedArrayBuffer;
  /** Whether the thread tells about each skipped event (each event is in one partition: told once). */
  readonly reportSkipped: boolean;
}

/** Sent by a worker. */
export type WorkerMessage =
  | { readonly kind: 'page'; readonly report: BuildReport; readonly from: GlobalPosition }
  | { readonly kind: 'skipped'; readonly event: StoredEvent }
  | {
      readonly kind: 'done';
      readonly report: BuildReport;
      readonly from: GlobalPosition;
      /** CPU seconds the thread ran (Linux `/proc/thread-self/schedstat`), undefined elsewhere. */
      readonly cpuSeconds: number | undefined;
    };

/**
 * CPU seconds the calling thread has run so far (Linux: `/proc/thread-self/schedstat`, nanoseconds on a CPU),
 * undefined where the kernel does not tell.
 */
export function threadCpuSeconds(): number | undefined {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

/** The compiled worker next to this module; under vitest (sources), the package's build of it. */
function workerFile(): string {
  const sibling = fileURLToPath(new URL('./replay-worker.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL('../dist/replay-worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`replay worker not found (${sibling}): build the projector package first`);
}

export interface WorkersOptions {
  readonly parallel: ParallelReplay;
  readonly projections: readonly ProjectionName[];
  /** Threads, one partition of the customers each (the read model's partitions must be set up). */
  readonly threads: number;
  readonly until: GlobalPosition;
  readonly asOf?: string;
  readonly batchSize: number;
  readonly cacheSize?: number;
  readonly onSkipped?: (event: StoredEvent) => void;
  readonly onPage?: (report: BuildReport, from: GlobalPosition) => void;
}

/**
 * Builds the shadow tables of the views in worker threads, the customers split between them: thread `i` reads
 * only the events of partition `i` of the log (`SqliteEventStore.readPartition`: by customer, so each
 * customer's events stay in order in one thread) and runs the same engine as a single-thread replay over
 * every view, keeping the shadow checkpoints of its partition (`SqliteReadModel` `partition`). Every view row
 * is keyed by customer, so the threads write disjoint rows of the same tables, taking turns at the write lock.
 * Each event is read and parsed once in all, by one thread. Resolves when every thread is done; if one
 * fails, the others are stopped and the promise rejects (the rebuild stays resumable).
 */
export function buildInWorkers(
  options: WorkersOptions,
): Promise<BuildReport & { threadCpuSeconds: readonly number[] | undefined }> {
  const lock = new SharedMutex();
  const file = workerFile();
  const threads = Array.from({ length: options.threads }, (_, i) => i);
  const progress = threads.map(() => ({ events: 0, position: 0, skipped: 0, from: 0 }));
  const done: (BuildReport | undefined)[] = threads.map(() => undefined);
  const cpu: (number | undefined)[] = threads.map(() => undefined);
  return new Promise((resolve, reject) => {
    let failed = false;
    const workers: Worker[] = [];
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const report = (): void => {
      // The slowest thread is how far the replay is; the threads' events are disjoint.
      const from = Math.min(...progress.map((p) => p.from));
      const position = Math.min(...progress.map((p) => p.position));
      const events = progress.reduce((n, p) => n + p.events, 0);
      const skipped = progress.reduce((n, p) => n + p.skipped, 0);
      options.onPage?.({ events, position, skipped }, from);
    };
    threads.forEach((i) => {
      const task: WorkerTask = {
        storeFile: options.parallel.storeFile,
        readModelFile: options.parallel.readModelFile,
        synchronous: options.parallel.synchronous ?? 'normal',
        projections: options.projections,
        partition: { index: i, count: options.threads },
        until: options.until,
        ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
        batchSize: options.batchSize,
        ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
        lock: lock.buffer,
        reportSkipped: options.onSkipped !== undefined,
      };
      const worker = new Worker(file, { workerData: task });
      workers.push(worker);
      worker.on('message', (m: WorkerMessage) => {
        if (failed) return;
        try {
          if (m.kind === 'skipped') options.onSkipped?.(m.event);
          else {
            // A thread that is done has applied its partition up to `until`, wherever its last event was.
            const position =
              m.kind === 'done' ? Math.max(m.report.position, options.until) : m.report.position;
            progress[i] = { ...m.report, position, from: m.from };
            // Report when the slowest thread moves (the others are ahead of it).
            if (progress.every((p) => p.position >= position)) report();
            if (m.kind === 'done') {
              done[i] = { ...m.report, position };
              cpu[i] = m.cpuSeconds;
              if (done.every((d) => d !== undefined)) {
                resolve({
                  threadCpuSeconds: cpu.every((c) => c !== undefined) ? cpu : undefined,
                  events: done.reduce((n, d) => n + d.events, 0),
                  position: Math.min(...done.map((d) => d.position)),
                  skipped: done.reduce((n, d) => n + d.skipped, 0),
                });
              }
            }
          }
        } catch (error) {
          fail(error);
        }
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (done[i] === undefined)
          fail(new Error(`replay worker ${i + 1} of ${options.threads} exited (${code})`));
      });
    });
  });
}
