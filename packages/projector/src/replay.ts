import type { EventStore, GlobalPosition, ReadModelStore, StoredEvent } from '@crm-ledger/core';
import { PROJECTION_NAMES, projections, type ProjectionName } from '@crm-ledger/projections';
import { ProjectionEngine } from './engine.js';

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
  /** Stop after this position (inclusive): the views "as of" the past. Default: the head of the log now. */
  readonly until?: GlobalPosition;
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
}

export interface ReplayResult {
  readonly events: number;
  readonly position: GlobalPosition;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly skipped: number;
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
  for (const name of names) {
    await readModel.ensureProjection(projections[name].spec);
    const resumable = options.resume !== false && (await readModel.rebuildInProgress(name));
    if (!resumable) await readModel.beginRebuild(projections[name].spec);
  }
  const engine = await ProjectionEngine.open({
    readModel,
    projections: names,
    target: 'shadow',
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    ...(options.onSkipped === undefined ? {} : { onSkipped: options.onSkipped }),
  });
  const start = now();
  const from = engine.position;
  let events = 0;
  let skipped = 0;
  let position = from;
  if (from < until) {
    for await (const page of store.readAll({
      after: from,
      until,
      batchSize: options.batchSize ?? 2_000,
    })) {
      const report = await engine.apply(page);
      events += report.events;
      skipped += report.skipped;
      position = report.position;
      if (options.onProgress !== undefined) {
        const seconds = Math.max((now() - start) / 1000, 1e-6);
        const rate = events / seconds;
        const left = Math.max(0, until - position);
        options.onProgress({
          events,
          position,
          until,
          eventsPerSecond: Math.round(rate),
          etaSeconds: rate === 0 ? 0 : Math.round((left / (position - from || 1)) * seconds),
        });
      }
    }
  }
  for (const name of names) await readModel.completeRebuild(name);
  const seconds = (now() - start) / 1000;
  return {
    events,
    position: Math.max(position, until),
    seconds,
    eventsPerSecond: seconds === 0 ? 0 : Math.round(events / seconds),
    skipped,
  };
}
