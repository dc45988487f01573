import * as E from 'fp-ts/lib/Either.js';
import {
  backoffDelay,
  isTransientError,
  type Clock,
  type EventStore,
  type Logger,
  type ReadModelStore,
  type StatusBoard,
} from '@crm-ledger/core';
import { fitClvFromStore, type ClvFromStoreError } from './from-store.js';
import type { ClvFitOptions, ClvFitRecord } from './fit.js';
import { clvReadModelSpec, writeClvToReadModel } from './read-model.js';
import { describeRefusal, recordRefitAttempt, type RefitAttempt } from './refit-attempts.js';
import type { ScoreOptions } from './score.js';

const HOUR_MS = 3_600_000;
/** How soon an empty ledger without a fit is looked at again (a demo seeds it right after start). */
export const EMPTY_LEDGER_RECHECK_MS = 60_000;

/** What the scheduler does next. */
export type RefitDecision =
  | { readonly kind: 'off' }
  | { readonly kind: 'fit'; readonly reason: 'no-fit-yet' | 'due' }
  | { readonly kind: 'wait'; readonly ms: number };

/**
 * The scheduling decision, pure: `everyHours` 0 turns refitting off; with no fit yet, fit now when the ledger
 * has events (else look again in a minute); with a fit, fit when it is `everyHours` old, else wait for that.
 */
export function refitDecision(input: {
  readonly everyHours: number;
  readonly lastFittedAt: string | undefined;
  readonly ledgerHasEvents: boolean;
  readonly now: string;
}): RefitDecision {
  if (!(input.everyHours > 0)) return { kind: 'off' };
  const every = input.everyHours * HOUR_MS;
  if (input.lastFittedAt === undefined)
    return input.ledgerHasEvents
      ? { kind: 'fit', reason: 'no-fit-yet' }
      : { kind: 'wait', ms: Math.min(every, EMPTY_LEDGER_RECHECK_MS) };
  const due = Date.parse(input.lastFittedAt) + every;
  const now = Date.parse(input.now);
  return now >= due ? { kind: 'fit', reason: 'due' } : { kind: 'wait', ms: due - now };
}

/** The last complete UTC day before `now`: the default end of a scheduled fit's observation window. */
export function dayBefore(now: string): string {
  return new Date(Date.parse(now) - 86_400_000).toISOString().slice(0, 10);
}

/** A timer port (setTimeout / clearTimeout by default) so tests drive the schedule without waiting. */
export interface RefitTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ClvRefitSchedulerOptions {
  readonly store: EventStore;
  readonly readModel: ReadModelStore;
  readonly clock: Clock;
  readonly timer: RefitTimer;
  readonly log: Logger;
  /** Hours between fits; 0 = off. */
  readonly everyHours: number;
  /** The fit options except the window end (the day before each run). */
  readonly fit: Omit<ClvFitOptions, 'observationEnd'>;
  readonly score?: ScoreOptions;
  /** Where the schedule reports running / retrying / failed (`/ready`, `/status`). */
  readonly status?: StatusBoard;
  /** Called after a fit was written to the read model (e.g. to keep `clv/latest.json`). */
  readonly onFitted?: (record: ClvFitRecord) => void;
}

/** One step's outcome, for logs and tests. */
export type RefitOutcome =
  | { readonly kind: 'off' }
  | { readonly kind: 'waiting'; readonly ms: number }
  | { readonly kind: 'fitted'; readonly fittedAt: string; readonly customers: number }
  | { readonly kind: 'failed'; readonly error: ClvFromStoreError };

/** Timers cannot exceed 2^31-1 ms (~24.8 days): longer waits are taken in steps, deciding again after each. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Refits the CLV models on a schedule: at start when no fit exists and the ledger has events, then every
 * `everyHours`. A fit the data cannot support is logged as a warning and retried after `everyHours`; an
 * unexpected error is logged and retried likewise: the scheduler never throws into the server.
 */
export class ClvRefitScheduler {
  private handle: unknown = undefined;
  private stopped = false;
  private failures = 0;
  private failingSince: string | undefined;
  private running: Promise<RefitOutcome> | undefined;

  constructor(private readonly o: ClvRefitSchedulerOptions) {}

  /** The latest fit's time in the read model, if any. */
  async lastFittedAt(): Promise<string | undefined> {
    await this.o.readModel.ensureProjection(clvReadModelSpec);
    const rows = await this.o.readModel.find('clv_fit', []);
    const times = rows.map((r) => String(r['fitted_at'])).sort();
    return times.at(-1);
  }

  /** Decides, fits if due, and schedules the next step. Resolves with what it did. */
  async step(): Promise<RefitOutcome> {
    const outcome = await this.decideAndRun().then(
      (o): RefitOutcome => {
        this.failures = 0;
        this.o.status?.set('clv-refit', { state: 'running' });
        return o;
      },
      (err: unknown): RefitOutcome => {
        if (isTransientError(err)) {
          // The read model or the store is unreachable for now: try again soon (capped, jittered backoff),
          // not a whole period later.
          this.failures++;
          this.failingSince ??= this.o.clock.now();
          const ms = backoffDelay(this.failures, 1_000, 5 * 60_000, Math.random);
          this.o.status?.set('clv-refit', {
            state: 'retrying',
            since: this.failingSince,
            attempts: this.failures,
            lastError: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
            nextAttemptAt: new Date(Date.parse(this.o.clock.now()) + ms).toISOString(),
          });
          this.o.log.warn(
            { err, attempts: this.failures, delayMs: ms },
            'CLV refit: transient failure, retrying',
          );
          return { kind: 'waiting', ms };
        }
        this.o.log.error({ err }, 'CLV refit failed unexpectedly');
        this.o.status?.set('clv-refit', {
          state: 'failed',
          at: this.o.clock.now(),
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
        return { kind: 'waiting', ms: this.o.everyHours * HOUR_MS };
      },
    );
    if (outcome.kind !== 'waiting' || this.failures === 0) this.failingSince = undefined;
    if (!this.stopped && outcome.kind !== 'off') {
      const ms = outcome.kind === 'waiting' ? outcome.ms : this.o.everyHours * HOUR_MS;
      this.handle = this.o.timer.set(() => void this.runStep(), Math.min(ms, MAX_TIMER_MS));
    }
    return outcome;
  }

  /** Starts the schedule (the first decision at once). */
  start(): Promise<RefitOutcome> {
    return this.runStep();
  }

  /** Stops the schedule; waits for a fit in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.handle !== undefined) this.o.timer.clear(this.handle);
    this.handle = undefined;
    if (this.running !== undefined) await this.running;
  }

  private runStep(): Promise<RefitOutcome> {
    this.handle = undefined;
    const p = this.step();
    this.running = p;
    return p;
  }

  /**
   * Records the attempt in the read model (`clv_refit_attempts`) for the query API of every process. A failure
   * to record is logged, not thrown: the attempt itself is over.
   */
  private async record(attempt: RefitAttempt): Promise<void> {
    await recordRefitAttempt(this.o.readModel, attempt).catch((err: unknown) =>
      this.o.log.warn({ err }, 'CLV refit: could not record the attempt in the read model'),
    );
  }

  private async decideAndRun(): Promise<RefitOutcome> {
    const now = this.o.clock.now();
    const decision = refitDecision({
      everyHours: this.o.everyHours,
      lastFittedAt: await this.lastFittedAt(),
      ledgerHasEvents: (await this.o.store.headPosition()) > 0,
      now,
    });
    if (decision.kind === 'off') return decision;
    if (decision.kind === 'wait') return { kind: 'waiting', ms: decision.ms };
    const head = await this.o.store.headPosition();
    const fit = await fitClvFromStore(
      this.o.store,
      { ...this.o.fit, observationEnd: dayBefore(now) },
      this.o.clock,
    );
    if (E.isLeft(fit)) {
      this.o.log.warn(
        { reason: decision.reason, error: fit.left.type },
        'CLV refit skipped: the data cannot support a fit',
      );
      await this.record({
        at: now,
        outcome: 'refused',
        reason: fit.left.type,
        detail: describeRefusal(fit.left),
      });
      return { kind: 'failed', error: fit.left };
    }
    const written = await writeClvToReadModel(
      this.o.readModel,
      fit.right.record,
      fit.right.summaries,
      head,
      this.o.score,
    );
    this.o.onFitted?.(fit.right.record);
    await this.record({ at: now, outcome: 'fitted' });
    this.o.log.info(
      { reason: decision.reason, fittedAt: fit.right.record.fittedAt, customers: written.customers },
      'CLV refitted',
    );
    return { kind: 'fitted', fittedAt: fit.right.record.fittedAt, customers: written.customers };
  }
}
