import {
  isCheckpointMoved,
  type EventStore,
  type GlobalPosition,
  type ReadModelStore,
  type StoredEvent,
} from '@crm-ledger/core';
import { PROJECTION_NAMES, projections, type ProjectionName } from '@crm-ledger/projections';
import { customerHistoryReader } from './customer-history.js';
import { ProjectionEngine, type BatchReport, type HeldCustomer } from './engine.js';

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
  /**
   * Told when the live loop restarts because the stored checkpoint moved under it (`CheckpointMoved`: a rebuild
   * was swapped in, or another runner wrote).
   */
  readonly onRestart?: (reason: string) => void;
  /** Told each time the live loop (re)starts from the stored checkpoints (the read model answered). */
  readonly onResumed?: () => void;
  /** Told when a view starts holding a customer: applying one of its events threw (see docs/guarantees.md). */
  readonly onHeld?: (held: HeldCustomer) => void;
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
    const engine = await ProjectionEngine.open({
      readModel: this.options.readModel,
      projections: this.names(),
      target: 'live',
      readCustomer: customerHistoryReader(this.options.store),
      ...(this.options.cacheSize === undefined ? {} : { cacheSize: this.options.cacheSize }),
      ...(this.options.onSkipped === undefined ? {} : { onSkipped: this.options.onSkipped }),
      ...(this.options.onHeld === undefined ? {} : { onHeld: this.options.onHeld }),
    });
    // Retries asked while no projector ran (`crm-ledger held retry`) do not wait for a new event.
    await engine.retryPending();
    return engine;
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
   * Follows the log live (catch-up subscription) until `signal` aborts. When the stored checkpoint moves under
   * it (`CheckpointMoved`: a rebuild was swapped in, or another runner wrote), it drops its in-memory states
   * and resumes from the stored checkpoint; other errors end the loop (rejected promise): the caller decides
   * whether to retry (transient I/O) or stop (see `projectorComponent`).
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const engine = await this.engine();
      this.options.onResumed?.();
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
        if (!isCheckpointMoved(error)) throw error;
        this.options.onRestart?.(error.message);
      }
    }
  }
}
