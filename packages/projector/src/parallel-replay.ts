import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GlobalPosition, StoredEvent } from '@crm-ledger/core';
import type { WriteLock } from '@crm-ledger/readmodel-sqlite';
import type { ProjectionName } from '@crm-ledger/projections';
import type { BuildReport } from './replay.js';

/** Where the threads of a parallel replay find the log and the read model. */
export interface ParallelReplay {
  /** The SQLite event store file (each thread opens it read-only for itself). */
  readonly storeFile: string;
  /** The SQLite read-model file: the same database as the `readModel` given to `replay`. */
  readonly readModelFile: string;
  readonly synchronous?: 'full' | 'normal';
  /** Threads (default: the cores available, at most one per view). One thread = no worker at all. */
  readonly threads?: number;
}

/**
 * Relative CPU cost of each view per event on the seeded history (measured with `node --cpu-prof` on
 * `bench/dist/replay.js`): the views are dealt to threads so that each thread gets about the same work.
 */
const COST: Readonly<Record<ProjectionName, number>> = { experience: 3, success: 1, service: 1, value: 1 };

/**
 * Splits views into at most `threads` groups of about equal cost (heaviest first, each to the lightest
 * group). The order inside a group keeps the order given (lanes of one engine).
 */
export function splitProjections(
  names: readonly ProjectionName[],
  threads: number = availableParallelism(),
): ProjectionName[][] {
  const n = Math.max(1, Math.min(Math.floor(threads), names.length));
  const groups = Array.from({ length: n }, () => ({ cost: 0, names: new Set<ProjectionName>() }));
  for (const name of [...names].sort((a, b) => COST[b] - COST[a])) {
    const lightest = groups.reduce((min, g) => (g.cost < min.cost ? g : min), groups[0]!);
    lightest.cost += COST[name];
    lightest.names.add(name);
  }
  return groups.map((g) => names.filter((x) => g.names.has(x))).filter((g) => g.length > 0);
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
  readonly until: GlobalPosition;
  readonly batchSize: number;
  readonly cacheSize?: number;
  readonly lock: SharedArrayBuffer;
  /** Only one thread reports skipped events (they all read the same log). */
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
  readonly groups: readonly (readonly ProjectionName[])[];
  readonly until: GlobalPosition;
  readonly batchSize: number;
  readonly cacheSize?: number;
  readonly onSkipped?: (event: StoredEvent) => void;
  readonly onPage?: (report: BuildReport, from: GlobalPosition) => void;
}

/**
 * Builds the shadow tables of each group of views in a worker thread of its own: each reads the log and runs
 * the same engine as a single-thread replay over its views (so the rows are the same), committing rows and
 * shadow checkpoints per page; the threads take turns at the write lock. Resolves when every thread is done;
 * if one fails, the others are stopped and the promise rejects (the rebuild stays resumable).
 */
export function buildInWorkers(
  options: WorkersOptions,
): Promise<BuildReport & { threadCpuSeconds: readonly number[] | undefined }> {
  const lock = new SharedMutex();
  const file = workerFile();
  const progress = options.groups.map(() => ({ events: 0, position: 0, skipped: 0, from: 0 }));
  const done: (BuildReport | undefined)[] = options.groups.map(() => undefined);
  const cpu: (number | undefined)[] = options.groups.map(() => undefined);
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
      // The slowest thread is how far the replay is.
      const from = Math.min(...progress.map((p) => p.from));
      const position = Math.min(...progress.map((p) => p.position));
      const events = Math.min(...progress.map((p) => p.events));
      const skipped = Math.max(...progress.map((p) => p.skipped));
      options.onPage?.({ events, position, skipped }, from);
    };
    options.groups.forEach((projections, i) => {
      const task: WorkerTask = {
        storeFile: options.parallel.storeFile,
        readModelFile: options.parallel.readModelFile,
        synchronous: options.parallel.synchronous ?? 'normal',
        projections,
        until: options.until,
        batchSize: options.batchSize,
        ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
        lock: lock.buffer,
        reportSkipped: i === 0 && options.onSkipped !== undefined,
      };
      const worker = new Worker(file, { workerData: task });
      workers.push(worker);
      worker.on('message', (m: WorkerMessage) => {
        if (failed) return;
        try {
          if (m.kind === 'skipped') options.onSkipped?.(m.event);
          else {
            progress[i] = { ...m.report, from: m.from };
            if (m.kind === 'page') {
              // Report when the slowest thread moves (the others are ahead of it).
              if (progress.every((p) => p.position >= m.report.position)) report();
            } else {
              done[i] = m.report;
              cpu[i] = m.cpuSeconds;
              if (done.every((d) => d !== undefined)) {
                resolve({
                  threadCpuSeconds: cpu.every((c) => c !== undefined) ? cpu : undefined,
                  // Events read from the lowest checkpoint (threads resuming further on read fewer).
                  events: Math.max(...done.map((d) => d.events)),
                  position: Math.min(...done.map((d) => d.position)),
                  skipped: Math.max(...done.map((d) => d.skipped)),
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
          fail(new Error(`replay worker for ${projections.join(', ')} exited (${code})`));
      });
    });
  });
}
