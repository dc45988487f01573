import type { EventStore, GlobalPosition, ReadModelStore, StoredEvent } from '@crm-ledger/core';
import { PROJECTION_NAMES, projections, type ProjectionName } from '@crm-ledger/projections';
import { ProjectionEngine, type BatchReport } from './engine.js';

export interface ProjectorOptions {
  readonly store: EventStore;
  readonly readModel: ReadModelStore;
  /** Which views to run, default all four. */
  readonly projections?: readonly ProjectionName[];
  /** Events per transaction (default 10,000). */
  readonly batchSize?: number;
  /** Customer states per projection kept in memory (default 2,000). */
  readonly cacheSize?: number;
  readonly onBatch?: (report: BatchReport) => void;
  readonly onSkipped?: (event: StoredEvent) => void;
  /** Told when the live loop restarts because a rebuild was swapped in under it. */
  readonly onRestart?: (reason: string) => void;
}

/** Creates the live tables of the views; returns the views whose stored tables come from another version. */
export async function ensureProjections(
  readModel: ReadModelStore,
  names: readonly ProjectionName[] = PROJECTION_NAMES,
): Promise<ProjectionName[]> {
  const stale: ProjectionName[] = [];
  for (const name of names) {
    const r = await readModel.ensureProjection(projections[name].spec);
    if (r.versionChanged) stale.push(name);
  }
  return stale;
}

/**
 * Keeps the live views up to date: reads the global log from the lowest checkpoint and applies it in batches
 * (rows + checkpoint in one transaction per batch). `catchUp` stops at the end of the log; `run` follows the
 * log live until aborted. A crash at any point leaves every view at its last committed batch; the next start
 * resumes after it.
 */
export class Projector {
  constructor(private readonly options: ProjectorOptions) {}

  private names(): readonly ProjectionName[] {
    return this.options.projections ?? PROJECTION_NAMES;
  }

  private async engine(): Promise<ProjectionEngine> {
    await ensureProjections(this.options.readModel, this.names());
    return ProjectionEngine.open({
      readModel: this.options.readModel,
      projections: this.names(),
      target: 'live',
      ...(this.options.cacheSize === undefined ? {} : { cacheSize: this.options.cacheSize }),
      ...(this.options.onSkipped === undefined ? {} : { onSkipped: this.options.onSkipped }),
    });
  }

  /** Applies everything stored after the checkpoints, then returns the position reached. */
  async catchUp(): Promise<GlobalPosition> {
    const engine = await this.engine();
    for await (const page of this.options.store.readAll({
      after: engine.position,
      batchSize: this.options.batchSize ?? 10_000,
    })) {
      const report = await engine.apply(page);
      this.options.onBatch?.(report);
    }
    return engine.position;
  }

  /**
   * Follows the log live (catch-up subscription) until `signal` aborts. When a rebuild is swapped in under it
   * (the stored checkpoint moved: `CheckpointMoved`), it drops its in-memory states and resumes from the new
   * checkpoint; other errors end the loop (rejected promise).
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const engine = await this.engine();
      try {
        for await (const page of this.options.store.subscribe({
          after: engine.position,
          batchSize: this.options.batchSize ?? 10_000,
          signal,
        })) {
          const report = await engine.apply(page);
          this.options.onBatch?.(report);
        }
        return;
      } catch (error) {
        if (!(error instanceof Error) || error.name !== 'CheckpointMoved') throw error;
        this.options.onRestart?.(error.message);
      }
    }
  }
}
