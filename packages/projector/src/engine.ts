import {
  isCheckpointMoved,
  type GlobalPosition,
  type ProjectionWrite,
  type ReadModelStore,
  type Row,
  type RowChange,
  type StoredEvent,
  type Target,
} from '@crm-ledger/core';
import { recordFrom, upcast, type LedgerEvent } from '@crm-ledger/events';
import {
  foldWithoutVoided,
  projections,
  refoldChanges,
  type CustomerProjection,
  type Positioned,
  type ProjectionName,
} from '@crm-ledger/projections';

/** One projection being fed: where it writes (live or shadow), how far it got, the states it holds. */
interface Lane {
  readonly name: ProjectionName;
  readonly projection: CustomerProjection<unknown>;
  readonly target: Target;
  checkpoint: GlobalPosition;
  /** Customer states in memory, oldest first (a bounded cache: evicted states reload from the state table). */
  readonly cache: Map<string, unknown>;
  /** Customers this projection holds (their `<projection>_held` rows): their events wait. */
  readonly held: Map<string, HeldCustomer>;
}

/** A customer a projection holds: applying one of its events threw (a row of `<projection>_held`). */
export interface HeldCustomer {
  readonly projection: ProjectionName;
  readonly customerId: string;
  /** First position of the customer that its rows do not reflect: replayed from here on retry. */
  readonly fromPosition: GlobalPosition;
  /** The event that threw. */
  readonly position: GlobalPosition;
  readonly eventId: string;
  readonly eventType: string;
  readonly error: string;
  /** A retry was asked (`crm-ledger held retry`): the next batch applies the customer's events again. */
  readonly retry: boolean;
}

/**
 * Test seam (issue #14): called before each event is applied; what it throws is handled exactly like a bug
 * of the projection. Installed by `crm-ledger` from CRM_LEDGER_TEST_PROJECTION_FAULT, never otherwise.
 */
export type ProjectionFault = (projection: ProjectionName, event: LedgerEvent) => void;
let fault: ProjectionFault | undefined;
export function installProjectionFault(f: ProjectionFault | undefined): void {
  fault = f;
}

/**
 * The test fault of a `<view>:<eventId>[,<view>:<eventId>...]` text (CRM_LEDGER_TEST_PROJECTION_FAULT): that
 * view throws when it applies that event, as a projection bug would.
 */
export function projectionFaultOf(spec: string): ProjectionFault {
  const faults = new Set(
    spec
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ''),
  );
  return (projection, event) => {
    if (faults.has(`${projection}:${event.eventId.toLowerCase()}`))
      throw new Error(`injected test fault (CRM_LEDGER_TEST_PROJECTION_FAULT) for event ${event.eventId}`);
  };
}

const heldRow = (h: HeldCustomer): Row => ({
  customer_id: h.customerId,
  from_position: h.fromPosition,
  position: h.position,
  event_id: h.eventId,
  event_type: h.eventType,
  error: h.error,
  retry: h.retry ? 1 : 0,
});

const fromHeldRow = (projection: ProjectionName, r: Row): HeldCustomer => ({
  projection,
  customerId: String(r['customer_id']),
  fromPosition: Number(r['from_position']),
  position: Number(r['position']),
  eventId: String(r['event_id']),
  eventType: String(r['event_type']),
  error: String(r['error']),
  retry: Number(r['retry']) === 1,
});

/**
 * Asks the projector to apply again the events of held customers (all, or one): sets `retry` on their held
 * rows, checkpoints unchanged. The projector retries them with its next batch, or when it starts. Returns the
 * rows marked.
 */
export async function requestRetry(
  readModel: ReadModelStore,
  names: readonly ProjectionName[],
  customerId?: string,
): Promise<HeldCustomer[]> {
  for (let attempt = 0; ; attempt++) {
    const writes: ProjectionWrite[] = [];
    const marked: HeldCustomer[] = [];
    for (const name of names) {
      const checkpoint = await readModel.checkpoint(name);
      const rows = (await heldCustomers(readModel, [name])).filter(
        (h) => customerId === undefined || h.customerId === customerId,
      );
      if (rows.length === 0) continue;
      marked.push(...rows);
      writes.push({
        projection: name,
        changes: rows.map((h) => ({
          op: 'upsert',
          table: `${name}_held`,
          row: heldRow({ ...h, retry: true }),
        })),
        checkpoint,
        expectedCheckpoint: checkpoint,
      });
    }
    try {
      await readModel.apply(writes);
      return marked;
    } catch (error) {
      // The projector moved on meanwhile: read again.
      if (!isCheckpointMoved(error) || attempt >= 20) throw error;
    }
  }
}

/** The customers held by the given projections (every row of their `<projection>_held` tables). */
export async function heldCustomers(
  readModel: ReadModelStore,
  names: readonly ProjectionName[],
  target: Target = 'live',
): Promise<HeldCustomer[]> {
  const out: HeldCustomer[] = [];
  for (const name of names) {
    const rows = await readModel.find(`${name}_held`, [], target);
    for (const r of rows) out.push(fromHeldRow(name, r));
  }
  return out;
}

const errorText = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500);

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
  /**
   * Reads one customer's stored events up to a global position (inclusive), in stream order: a batch holding
   * an `EventVoided` re-folds that customer from this history without the voided events, and a retry of a held
   * customer applies its held events again from it. `select` (a cut) applies to what it returns too.
   */
  readonly readCustomer: (customerId: string, until: GlobalPosition) => Promise<readonly StoredEvent[]>;
  /** Told when a projection starts holding a customer (applying its event threw). */
  readonly onHeld?: (held: HeldCustomer) => void;
  /**
   * Which events to apply (a cut, see `inCut`): the others are passed over, though the checkpoints still move
   * past them. Default: every event.
   */
  readonly select?: (event: StoredEvent) => boolean;
  /**
   * Where every lane starts, instead of the projections' stored checkpoints: the Kafka mode opens one engine per
   * partition at the last global position that partition applied (stored with its offsets).
   */
  readonly startAt?: GlobalPosition;
  /**
   * The customers this engine owns (the Kafka mode: those of its partition). Held customers of others are
   * neither loaded nor retried by it. Default: every customer.
   */
  readonly owns?: (customerId: string) => boolean;
}

/** How a batch's writes are committed: by default `readModel.apply` (rows and checkpoints in one transaction). */
export type Commit = (writes: readonly ProjectionWrite[]) => Promise<void>;

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
        checkpoint: options.startAt ?? (await options.readModel.checkpoint(name, options.target)),
        cache: new Map(),
        held: new Map(
          (await heldCustomers(options.readModel, [name], options.target))
            .filter((h) => options.owns === undefined || options.owns(h.customerId))
            .map((h) => [h.customerId, h]),
        ),
      });
    }
    return engine;
  }

  /** The lowest checkpoint of the lanes: where reading the log must start. */
  get position(): GlobalPosition {
    return this.lanes.reduce((min, l) => Math.min(min, l.checkpoint), Number.POSITIVE_INFINITY);
  }

  checkpoints(): Readonly<Record<string, GlobalPosition>> {
    return recordFrom(this.lanes.map((l) => [l.name, l.checkpoint] as const));
  }

  /**
   * Catches up the held customers a retry was asked for, without waiting for new events: their rows and the
   * deletion of their held rows in one transaction, checkpoints unchanged. Returns how many were retried.
   */
  async retryPending(commit?: Commit): Promise<number> {
    const writes: ProjectionWrite[] = [];
    let retried = 0;
    const heldBefore = this.lanes.map((l) => new Map(l.held));
    try {
      for (const lane of this.lanes) {
        if (![...lane.held.values()].some((h) => h.retry)) continue;
        const changes: RowChange[] = [];
        await this.retryHeld(lane, changes);
        retried += changes.filter((c) => c.op === 'delete' && c.table === `${lane.name}_held`).length;
        if (changes.length === 0) continue;
        writes.push({
          projection: lane.name,
          target: lane.target,
          changes,
          checkpoint: lane.checkpoint,
          expectedCheckpoint: lane.checkpoint,
        });
      }
      await (commit ?? this.defaultCommit)(writes);
    } catch (error) {
      this.forgetUncommitted(heldBefore);
      throw error;
    }
    return retried;
  }

  /**
   * After a write that did not commit: states in memory may be ahead of the tables, so they are forgotten (the
   * state tables are the truth), and the held customers are those before the write.
   */
  private forgetUncommitted(heldBefore: readonly ReadonlyMap<string, HeldCustomer>[]): void {
    this.lanes.forEach((lane, k) => {
      lane.cache.clear();
      lane.held.clear();
      for (const [id, h] of heldBefore[k]!) lane.held.set(id, h);
    });
  }

  /** The customers held now, by every lane. */
  held(): HeldCustomer[] {
    return this.lanes.flatMap((l) => [...l.held.values()]);
  }

  private readonly defaultCommit: Commit = (writes) => this.options.readModel.apply(writes);

  /**
   * Applies one batch (events in global order) and commits it, with `commit` when given (the Kafka mode
   * writes the partition's offsets in the same transaction; it is called even when no lane has anything new,
   * so the offsets still move past duplicates).
   */
  async apply(batch: readonly StoredEvent[], commit?: Commit): Promise<BatchReport> {
    const last = batch[batch.length - 1];
    if (last === undefined) {
      if (commit !== undefined) await commit([]);
      return { events: 0, position: this.position, skipped: 0, rowsWritten: 0 };
    }
    let skipped = 0;
    // Upcast once for every lane; group by customer once, so per-customer work (cache lookup, flush) is
    // done once per batch rather than once per event.
    const events: LedgerEvent[] = [];
    const positions: number[] = [];
    const byCustomer = new Map<string, number[]>();
    const select = this.options.select;
    /** Customers with a void in this batch: the position of their last void. */
    const voids = new Map<string, number>();
    for (const stored of batch) {
      if (select !== undefined && !select(stored)) continue;
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
      if (event.type === 'EventVoided') voids.set(event.customerId, stored.globalPosition);
    }
    const histories = await this.historiesOf(voids, last.globalPosition);
    const writes: ProjectionWrite[] = [];
    let rowsWritten = 0;
    /** Held-customer changes of this batch, undone in memory if the batch does not commit. */
    const heldBefore = this.lanes.map((l) => new Map(l.held));
    try {
      for (const lane of this.lanes) {
        if (last.globalPosition <= lane.checkpoint) continue;
        const changes: RowChange[] = [];
        if (lane.held.size > 0) await this.retryHeld(lane, changes);
        await this.load(lane, byCustomer, positions);
        for (const [customerId, group] of byCustomer) {
          // A held customer's events wait in the log (its rows stay at their last good state).
          if (lane.held.has(customerId)) continue;
          const state = lane.cache.get(customerId);
          if (state === undefined) continue;
          const history = histories.get(customerId);
          const lastVoid = voids.get(customerId);
          if (history !== undefined && lastVoid !== undefined && lastVoid > lane.checkpoint) {
            for (const c of await this.refold(lane, customerId, state, history)) changes.push(c);
            continue;
          }
          this.applyCustomer(lane, customerId, state, group, events, positions, changes);
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
      await (commit ?? this.defaultCommit)(writes);
    } catch (error) {
      this.forgetUncommitted(heldBefore);
      throw error;
    }
    for (const lane of this.lanes) {
      if (last.globalPosition > lane.checkpoint) lane.checkpoint = last.globalPosition;
      this.evict(lane);
    }
    return { events: batch.length, position: last.globalPosition, skipped, rowsWritten };
  }

  /**
   * Evolves one customer's events of the batch and flushes its rows. When applying an event throws (a bug,
   * a poison event), the failure is contained to this customer: nothing of its batch is written, its state
   * is dropped from memory (the state table still holds the last good one), and it is held: a row of
   * `<projection>_held`, written in the same transaction as the batch. Deterministic: the same log holds the
   * same customers, whatever the batch cuts.
   */
  private applyCustomer(
    lane: Lane,
    customerId: string,
    state: unknown,
    group: readonly number[],
    events: readonly LedgerEvent[],
    positions: readonly number[],
    changes: RowChange[],
  ): void {
    let touched = false;
    let from: number | undefined;
    let current: number | undefined;
    try {
      for (const i of group) {
        const position = positions[i]!;
        if (position <= lane.checkpoint) continue;
        from ??= i;
        current = i;
        fault?.(lane.name, events[i]!);
        lane.projection.evolve(state, events[i]!, position);
        touched = true;
      }
      if (touched) for (const c of lane.projection.flush(state)) changes.push(c);
    } catch (error) {
      lane.cache.delete(customerId);
      const at = current ?? from ?? group[0]!;
      const held: HeldCustomer = {
        projection: lane.name,
        customerId,
        fromPosition: positions[from ?? at]!,
        position: positions[at]!,
        eventId: events[at]!.eventId,
        eventType: events[at]!.type,
        error: errorText(error),
        retry: false,
      };
      lane.held.set(customerId, held);
      changes.push({ op: 'upsert', table: `${lane.name}_held`, row: heldRow(held) });
      this.options.onHeld?.(held);
    }
  }

  /**
   * Catches up the held customers a retry was asked for: their state from the state table, their events
   * from `fromPosition` to the lane's checkpoint from their stream, applied again; the held row is deleted
   * (or rewritten if an event throws again). Later events of the batch then apply as for anyone.
   */
  private async retryHeld(lane: Lane, changes: RowChange[]): Promise<void> {
    // Retry requests come from another process (the CLI): read the held rows again.
    const owns = this.options.owns;
    const stored = (await heldCustomers(this.options.readModel, [lane.name], lane.target)).filter(
      (h) => owns === undefined || owns(h.customerId),
    );
    lane.held.clear();
    for (const h of stored) lane.held.set(h.customerId, h);
    for (const h of stored) {
      if (!h.retry) continue;
      const read = await this.options.readCustomer(h.customerId, lane.checkpoint);
      const events: LedgerEvent[] = [];
      const positions: number[] = [];
      const select = this.options.select;
      for (const s of read) {
        if (s.globalPosition < h.fromPosition || s.globalPosition > lane.checkpoint) continue;
        if (select !== undefined && !select(s)) continue;
        const e = upcast(s.event);
        if (e === undefined) continue;
        events.push(e);
        positions.push(s.globalPosition);
      }
      lane.held.delete(h.customerId);
      lane.cache.delete(h.customerId);
      const [row] = await this.options.readModel.find(
        `${lane.name}_state`,
        [{ column: 'customer_id', op: 'eq', value: h.customerId }],
        lane.target,
      );
      const state =
        row === undefined
          ? lane.projection.init(h.customerId)
          : lane.projection.decode(h.customerId, String(row['state']));
      const saved = lane.checkpoint;
      // Apply as if the checkpoint were just before the held event's batch.
      lane.checkpoint = h.fromPosition - 1;
      try {
        this.applyCustomer(
          lane,
          h.customerId,
          state,
          events.map((_, i) => i),
          events,
          positions,
          changes,
        );
      } finally {
        lane.checkpoint = saved;
      }
      if (!lane.held.has(h.customerId)) {
        changes.push({ op: 'delete', table: `${lane.name}_held`, key: { customer_id: h.customerId } });
        lane.cache.set(h.customerId, state);
      }
    }
  }

  /** The histories (up to the batch's end) of the customers a batch voids something of. */
  private async historiesOf(
    voids: ReadonlyMap<string, number>,
    until: GlobalPosition,
  ): Promise<Map<string, Positioned[]>> {
    const out = new Map<string, Positioned[]>();
    for (const customerId of voids.keys()) {
      const events: Positioned[] = [];
      for (const stored of await this.options.readCustomer(customerId, until)) {
        if (this.options.select !== undefined && !this.options.select(stored)) continue;
        const event = upcast(stored.event);
        if (event !== undefined) events.push({ event, position: stored.globalPosition });
      }
      out.set(customerId, events);
    }
    return out;
  }

  /**
   * A customer whose batch voids an event: folded again from the start of their stream without the voided
   * events (which may have been followed by events that depended on them), then the rows the view holds are
   * replaced by the re-folded ones. The same result as a ledger that never had the voided events.
   */
  private async refold(
    lane: Lane,
    customerId: string,
    before: unknown,
    history: readonly Positioned[],
  ): Promise<RowChange[]> {
    const anomalies = await this.options.readModel.find(
      `${lane.name}_anomalies`,
      [{ column: 'customer_id', op: 'eq', value: customerId }],
      lane.target,
    );
    const after = foldWithoutVoided(lane.projection, customerId, history);
    const changes = refoldChanges(
      lane.projection,
      customerId,
      before,
      anomalies.map((r) => Number(r['position'])),
      after,
    );
    if (after.kept === 0) lane.cache.delete(customerId);
    else lane.cache.set(customerId, after.state);
    return changes;
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
