import type {
  GlobalPosition,
  ProjectionWrite,
  ReadModelStore,
  RowChange,
  StoredEvent,
  Target,
} from '@crm-ledger/core';
import { upcast, type LedgerEvent } from '@crm-ledger/events';
import { projections, type CustomerProjection, type ProjectionName } from '@crm-ledger/projections';

/** One projection being fed: where it writes (live or shadow), how far it got, the states it holds. */
interface Lane {
  readonly name: ProjectionName;
  readonly projection: CustomerProjection<unknown>;
  readonly target: Target;
  checkpoint: GlobalPosition;
  /** Customer states in memory, oldest first (a bounded cache: evicted states reload from the state table). */
  readonly cache: Map<string, unknown>;
}

export interface BatchReport {
  /** Events read in this batch (including ones a lane had already applied). */
  readonly events: number;
  /** Position of the last event of the batch: every lane's checkpoint is now at least this. */
  readonly position: GlobalPosition;
  /** Stored events that could not be upcast (unknown type or version): skipped. */
  readonly skipped: number;
  readonly rowsWritten: number;
}

export interface EngineOptions {
  readonly readModel: ReadModelStore;
  readonly projections: readonly ProjectionName[];
  readonly target: Target;
  /** At most this many customer states per projection held in memory (default 2,000): bounds memory whatever the number of customers. */
  readonly cacheSize?: number;
  /** Told about each stored event that cannot be upcast (the store holds a type this build does not know). */
  readonly onSkipped?: (event: StoredEvent) => void;
}

const LOAD_CHUNK = 500;

/**
 * Applies batches of stored events to a set of projections: per batch, loads the states of the customers it
 * touches (from memory or the state tables), evolves them, and writes every projection's changed rows and
 * new checkpoint in ONE read-model transaction. Per-event work is an upcast and four in-memory evolves; SQL
 * runs once per batch. A lane skips events at or before its checkpoint, so lanes with different checkpoints
 * can share one read of the log, and an event is never applied twice.
 */
export class ProjectionEngine {
  private readonly lanes: Lane[] = [];
  private readonly cacheSize: number;

  private constructor(private readonly options: EngineOptions) {
    this.cacheSize = options.cacheSize ?? 2_000;
  }

  /** Sets up the lanes, reading each projection's checkpoint for the target. */
  static async open(options: EngineOptions): Promise<ProjectionEngine> {
    const engine = new ProjectionEngine(options);
    for (const name of options.projections) {
      engine.lanes.push({
        name,
        projection: projections[name],
        target: options.target,
        checkpoint: await options.readModel.checkpoint(name, options.target),
        cache: new Map(),
      });
    }
    return engine;
  }

  /** The lowest checkpoint of the lanes: where reading the log must start. */
  get position(): GlobalPosition {
    return this.lanes.reduce((min, l) => Math.min(min, l.checkpoint), Number.POSITIVE_INFINITY);
  }

  checkpoints(): Readonly<Record<string, GlobalPosition>> {
    return Object.fromEntries(this.lanes.map((l) => [l.name, l.checkpoint]));
  }

  /** Applies one batch (events in global order) and commits it. */
  async apply(batch: readonly StoredEvent[]): Promise<BatchReport> {
    const last = batch[batch.length - 1];
    if (last === undefined) return { events: 0, position: this.position, skipped: 0, rowsWritten: 0 };
    let skipped = 0;
    // Upcast once for every lane; group by customer once, so per-customer work (cache lookup, flush) is
    // done once per batch rather than once per event.
    const events: LedgerEvent[] = [];
    const positions: number[] = [];
    const byCustomer = new Map<string, number[]>();
    for (const stored of batch) {
      const event = upcast(stored.event);
      if (event === undefined) {
        skipped++;
        this.options.onSkipped?.(stored);
        continue;
      }
      const i = events.length;
      events.push(event);
      positions.push(stored.globalPosition);
      const group = byCustomer.get(event.customerId);
      if (group === undefined) byCustomer.set(event.customerId, [i]);
      else group.push(i);
    }
    const writes: ProjectionWrite[] = [];
    let rowsWritten = 0;
    try {
      for (const lane of this.lanes) {
        if (last.globalPosition <= lane.checkpoint) continue;
        await this.load(lane, byCustomer, positions);
        const changes: RowChange[] = [];
        for (const [customerId, group] of byCustomer) {
          const state = lane.cache.get(customerId);
          if (state === undefined) continue;
          let touched = false;
          for (const i of group) {
            const position = positions[i]!;
            if (position <= lane.checkpoint) continue;
            lane.projection.evolve(state, events[i]!, position);
            touched = true;
          }
          if (touched) for (const c of lane.projection.flush(state)) changes.push(c);
        }
        rowsWritten += changes.length;
        writes.push({
          projection: lane.name,
          target: lane.target,
          changes,
          checkpoint: last.globalPosition,
          expectedCheckpoint: lane.checkpoint,
        });
      }
      await this.options.readModel.apply(writes);
    } catch (error) {
      // States in memory may now be ahead of the tables: forget them, the state tables are the truth.
      for (const lane of this.lanes) lane.cache.clear();
      throw error;
    }
    for (const lane of this.lanes) {
      if (last.globalPosition > lane.checkpoint) lane.checkpoint = last.globalPosition;
      this.evict(lane);
    }
    return { events: batch.length, position: last.globalPosition, skipped, rowsWritten };
  }

  /** Puts the state of every customer of the batch in the lane's cache: from the state table, or a new one. */
  private async load(
    lane: Lane,
    byCustomer: ReadonlyMap<string, readonly number[]>,
    positions: readonly number[],
  ): Promise<void> {
    const missing = new Set<string>();
    for (const [id, group] of byCustomer) {
      if (positions[group[group.length - 1]!]! <= lane.checkpoint) continue;
      const cached = lane.cache.get(id);
      if (cached === undefined) missing.add(id);
      else {
        // Refresh recency for the LRU order.
        lane.cache.delete(id);
        lane.cache.set(id, cached);
      }
    }
    const ids = [...missing];
    for (let i = 0; i < ids.length; i += LOAD_CHUNK) {
      const chunk = ids.slice(i, i + LOAD_CHUNK);
      const rows = await this.options.readModel.find(
        `${lane.name}_state`,
        [{ column: 'customer_id', op: 'in', values: chunk }],
        lane.target,
      );
      for (const r of rows) {
        const id = String(r['customer_id']);
        lane.cache.set(id, lane.projection.decode(id, String(r['state'])));
        missing.delete(id);
      }
    }
    for (const id of missing) lane.cache.set(id, lane.projection.init(id));
  }

  private evict(lane: Lane): void {
    let excess = lane.cache.size - this.cacheSize;
    if (excess <= 0) return;
    for (const id of lane.cache.keys()) {
      if (excess-- <= 0) break;
      lane.cache.delete(id);
    }
  }
}
