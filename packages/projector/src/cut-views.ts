import type { EventStore, GlobalPosition, ReadModelStore } from '@crm-ledger/core';
import { PROJECTION_NAMES } from '@crm-ledger/projections';
import { customerHistoryReader } from './customer-history.js';
import { inCut, type Cut } from './cut.js';
import { ProjectionEngine } from './engine.js';
import { ensureProjections } from './projector.js';

export interface CutViewsOptions {
  readonly store: EventStore;
  /**
   * Opens an empty scratch read model of the deployment's kind (SQLite: in memory; PostgreSQL: a schema of its
   * own that `close` drops). Each cut in the cache owns one; it is closed when the cut is evicted.
   */
  readonly openScratch: () => Promise<ReadModelStore>;
  /** Cuts kept built (least recently used evicted first), default 4. */
  readonly capacity?: number;
  /** Events per transaction while building, default 5,000. */
  readonly batchSize?: number;
}

interface Entry {
  readonly key: string;
  readonly readModel: Promise<ReadModelStore>;
  /** Serialises catch-ups of one entry (an as-of cut without a ledger-time bound follows the head). */
  tail: Promise<unknown>;
  /** Requests using the entry now: an evicted entry is closed once the last one is done. */
  users: number;
  evicted: boolean;
}

/**
 * The views as of a past cut, for the query API's lists and aggregates: the four views built into a scratch
 * read model with the rebuild's own engine and selection (`inCut`, events applied in log order, voids
 * re-folded), so the SQL of a list or an aggregate over it answers exactly what it answers over the views
 * rebuilt by `crm-ledger replay` with the same cut. Built once per cut and kept (least recently used evicted):
 * - a cut with a ledger-time bound (`position`) never changes once built;
 * - a cut with only a business time follows the log: each use first applies what was appended since (the
 *   incremental state equals a rebuild up to the new head).
 * Cost: the first use of a cut reads the log up to the cut (or the head) and writes every view (about a
 * `replay`); later uses cost one read of what was appended since. See docs/read-models.md.
 */
export class CutViews {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;

  constructor(private readonly options: CutViewsOptions) {
    this.capacity = Math.max(1, options.capacity ?? 4);
  }

  /**
   * Runs `use` over the views of `cut` (built or caught up first). The scratch read model stays open until
   * `use` settles, even if the cut is evicted meanwhile.
   */
  async withCut<T>(cut: Cut, use: (readModel: ReadModelStore) => Promise<T>): Promise<T> {
    const key = `${cut.asOf ?? '-'}|${cut.position ?? 'head'}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const readModel = this.options.openScratch().then(async (rm) => {
        await ensureProjections(rm);
        return rm;
      });
      entry = { key, readModel, tail: Promise.resolve(), users: 0, evicted: false };
      this.entries.set(key, entry);
      this.evict();
    } else {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    entry.users++;
    try {
      const e = entry;
      const caughtUp = e.tail.then(async () => this.catchUp(await e.readModel, cut));
      e.tail = caughtUp.catch(() => undefined);
      await caughtUp;
      return await use(await e.readModel);
    } catch (error) {
      // a failed build is not kept: the next request starts again
      if (this.entries.get(key) === entry) {
        this.entries.delete(key);
        entry.evicted = true;
      }
      throw error;
    } finally {
      entry.users--;
      if (entry.evicted && entry.users === 0) await this.closeEntry(entry);
    }
  }

  /** Closes every scratch read model (PostgreSQL: drops their schemas). */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) {
      e.evicted = true;
      await e.tail;
      await this.closeEntry(e);
    }
  }

  private async closeEntry(entry: Entry): Promise<void> {
    await (await entry.readModel.catch(() => undefined))?.close();
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const [oldest] = this.entries.values();
      if (oldest === undefined) return;
      this.entries.delete(oldest.key);
      oldest.evicted = true;
      if (oldest.users === 0) void this.closeEntry(oldest);
    }
  }

  /** Applies the log after the scratch views' checkpoint up to the cut's position (or the head). */
  private async catchUp(readModel: ReadModelStore, cut: Cut): Promise<GlobalPosition> {
    const until = cut.position ?? (await this.options.store.headPosition());
    const engine = await ProjectionEngine.open({
      readModel,
      projections: PROJECTION_NAMES,
      target: 'live',
      readCustomer: customerHistoryReader(this.options.store),
      ...(cut.asOf === undefined ? {} : { select: inCut({ asOf: cut.asOf }) }),
    });
    if (engine.position >= until) return engine.position;
    for await (const page of this.options.store.readAll({
      after: engine.position,
      until,
      batchSize: this.options.batchSize ?? 5_000,
    }))
      await engine.apply(page);
    return until;
  }
}
