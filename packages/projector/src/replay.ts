import {
  partitionedRebuilds,
  type EventStore,
  type GlobalPosition,
  type ReadModelStore,
  type StoredEvent,
} from '@crm-ledger/core';
import { PROJECTION_NAMES, projections, type ProjectionName } from '@crm-ledger/projections';
import { customerHistoryReader } from './customer-history.js';
import { ProjectionEngine } from './engine.js';
import { inCut } from './cut.js';
import { buildInWorkers, replayThreads, type ParallelReplay } from './parallel-replay.js';

export interface ReplayProgress {
  /** Events applied so far in this run. */
  readonly events: number;
  readonly position: GlobalPosition;
  /** Position the replay stops at. */
  readonly until: GlobalPosition;
  /** Events per second since the start of this run. */
  readonly eventsPerSecond: number;
  /** Seconds left at the current rate (estimated from positions: they may have gaps). */
  readonly etaSeconds: number;
}

export interface ReplayOptions {
  readonly store: EventStore;
  readonly readModel: ReadModelStore;
  /** Which views to rebuild, default all four. */
  readonly projections?: readonly ProjectionName[];
  /**
   * Ledger time ("as known at"): stop after this position (inclusive). Default: the head of the log now.
   * The views' checkpoint is this position.
   */
  readonly until?: GlobalPosition;
  /**
   * Business time ("as of", see `cut.ts`): apply only events that occurred at or before this instant (UTC
   * ISO-8601). The others up to `until` are passed over: the rebuilt views show what had happened by then.
   */
  readonly asOf?: string;
  /**
   * Resume a rebuild left unfinished by a crash (default true): continue from its shadow checkpoint.
   * With false, every rebuild starts again from position 0.
   */
  readonly resume?: boolean;
  /** Events per transaction, default 2,000: small pages die young in the garbage collector (measured fastest). */
  readonly batchSize?: number;
  readonly cacheSize?: number;
  readonly onProgress?: (progress: ReplayProgress) => void;
  readonly onSkipped?: (event: StoredEvent) => void;
  /** Milliseconds since some origin: injected so that progress is testable; default `performance.now`. */
  readonly now?: () => number;
  /**
   * Build the shadow tables in worker threads, the customers split between them, each thread reading and
   * parsing only its own customers' events (SQLite store and read model only: the threads open the same
   * files). Setup and the swap stay on `readModel`, which must be the SQLite read model on `readModelFile`.
   * Without it (or with 1 thread), the replay runs in this thread.
   */
  readonly parallel?: ParallelReplay;
}

export interface ReplayResult {
  readonly events: number;
  readonly position: GlobalPosition;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly skipped: number;
  /**
   * With `parallel`: CPU seconds each worker thread ran (Linux), for the critical path of a parallel replay
   * (on an idle machine its wall time is about the busiest thread's CPU time plus the setup and the swap).
   */
  readonly threadCpuSeconds?: readonly number[];
}

/** What building the shadow tables of some views reached (the counts are of events read from the log). */
export interface BuildReport {
  readonly events: number;
  readonly position: GlobalPosition;
  readonly skipped: number;
}

export interface BuildOptions {
  readonly store: EventStore;
  readonly readModel: ReadModelStore;
  readonly projections: readonly ProjectionName[];
  readonly until: GlobalPosition;
  /** Business time: only events that occurred at or before it (see {@link ReplayOptions.asOf}). */
  readonly asOf?: string;
  readonly batchSize: number;
  readonly cacheSize?: number;
  readonly onSkipped?: (event: StoredEvent) => void;
  /** After each committed page: the totals so far and where reading started. */
  readonly onPage?: (report: BuildReport, from: GlobalPosition) => void;
  /** How to read the log (default: `store.readAll`); a thread of a parallel replay reads its partition. */
  readonly read?: (
    after: GlobalPosition,
    until: GlobalPosition,
    batchSize: number,
  ) => AsyncIterable<readonly StoredEvent[]>;
}

/**
 * Applies the log from the lowest shadow checkpoint of the views up to `until` to their shadow tables (rows
 * and shadow checkpoints in one transaction per page). The views must be set up for a rebuild.
 */
export async function buildShadow(options: BuildOptions): Promise<BuildReport & { from: GlobalPosition }> {
  const engine = await ProjectionEngine.open({
    readModel: options.readModel,
    projections: options.projections,
    target: 'shadow',
    readCustomer: customerHistoryReader(options.store),
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    ...(options.onSkipped === undefined ? {} : { onSkipped: options.onSkipped }),
    ...(options.asOf === undefined ? {} : { select: inCut({ asOf: options.asOf }) }),
  });
  const from = engine.position;
  let events = 0;
  let skipped = 0;
  let position = from;
  if (from < options.until) {
    const pages =
      options.read?.(from, options.until, options.batchSize) ??
      options.store.readAll({ after: from, until: options.until, batchSize: options.batchSize });
    for await (const page of pages) {
      const report = await engine.apply(page);
      events += report.events;
      skipped += report.skipped;
      position = report.position;
      options.onPage?.({ events, position, skipped }, from);
    }
  }
  return { events, position, skipped, from };
}

/**
 * Rebuilds views from position 0 (or from where a crashed rebuild stopped) into shadow tables, then swaps
 * each in atomically: queries keep seeing the previous complete view until the new one is complete.
 * Rows and shadow checkpoint are written in one transaction per batch, so killing the process at any point
 * and running the replay again gives exactly the rows of an uninterrupted rebuild.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { store, readModel } = options;
  const names = options.projections ?? PROJECTION_NAMES;
  const now = options.now ?? (() => performance.now());
  const until = options.until ?? (await store.headPosition());
  const threads = replayThreads(options.parallel);
  const parts = partitionedRebuilds(readModel);
  if (threads > 1 && parts === undefined)
    throw new Error('a parallel replay needs the SQLite read model on parallel.readModelFile');
  for (const name of names) {
    await readModel.ensureProjection(projections[name].spec);
    let resumable = options.resume !== false && (await readModel.rebuildInProgress(name));
    // A rebuild left by threads resumes only with as many threads: its partitions hold the checkpoints.
    const left = parts?.partitionsOf(name);
    if (resumable && left !== undefined && left !== threads) resumable = false;
    if (!resumable) await readModel.beginRebuild(projections[name].spec);
    if (threads > 1) parts!.beginPartitions(name, threads);
  }
  const start = now();
  const batchSize = options.batchSize ?? 2_000;
  const onPage = (report: BuildReport, from: GlobalPosition): void => {
    if (options.onProgress === undefined) return;
    const seconds = Math.max((now() - start) / 1000, 1e-6);
    const rate = report.events / seconds;
    const left = Math.max(0, until - report.position);
    options.onProgress({
      events: report.events,
      position: report.position,
      until,
      eventsPerSecond: Math.round(rate),
      etaSeconds: rate === 0 ? 0 : Math.round((left / (report.position - from || 1)) * seconds),
    });
  };
  const built =
    threads > 1 && options.parallel !== undefined
      ? await buildInWorkers({
          parallel: options.parallel,
          projections: names,
          threads,
          until,
          ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
          batchSize,
          ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
          ...(options.onSkipped === undefined ? {} : { onSkipped: options.onSkipped }),
          onPage,
        })
      : await buildShadow({
          store,
          readModel,
          projections: names,
          until,
          ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
          batchSize,
          ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
          ...(options.onSkipped === undefined ? {} : { onSkipped: options.onSkipped }),
          onPage,
        });
  for (const name of names) {
    if (threads > 1) parts!.endPartitions(name, until);
    await readModel.completeRebuild(name);
  }
  const seconds = (now() - start) / 1000;
  return {
    events: built.events,
    position: Math.max(built.position, until),
    seconds,
    eventsPerSecond: seconds === 0 ? 0 : Math.round(built.events / seconds),
    skipped: built.skipped,
    ...('threadCpuSeconds' in built && built.threadCpuSeconds !== undefined
      ? { threadCpuSeconds: built.threadCpuSeconds }
      : {}),
  };
}
