import { setTimeout as sleep } from 'node:timers/promises';
import {
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import type { GlobalPosition, StoredEvent, SubscriptionHealth } from '@crm-ledger/core';
import { translateReadError } from './errors.js';
import { readFrom } from './positions.js';
import { nextBatch } from './readable-batches.js';

/**
 * How a failed subscription is re-established: forever (a subscription never gives up by itself: the
 * projector, relay and shredder behind it would otherwise stop silently), after a backoff that doubles from
 * `initialDelayMs` up to `maxDelayMs`.
 */
export interface ResubscribePolicy {
  /** Default 200 ms. */
  readonly initialDelayMs?: number;
  /** Default 5 s: during an outage of any length, a subscription tries again at least this often. */
  readonly maxDelayMs?: number;
}

export interface ResubscribeInfo {
  /** Consecutive failures so far (1 for the first). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
  /** The last position handed to the consumer: nothing at or before it is delivered again. */
  readonly after: GlobalPosition;
}

/**
 * What one subscription of this store is doing, for `/ready` and metrics (`EventStoreDbEventStore.subscriptionStatus()`
 * and the `onSubscriptionStatus` option):
 * - `connecting`: the first attempt has not yet received anything;
 * - `catching-up`: reading stored events;
 * - `live`: the server said it caught up, new events arrive as they are written;
 * - `retrying`: the last attempt failed (`lastError`), `attempts` consecutive failures since `since`; the
 *   subscription tries again by itself.
 */
export type SubscriptionStatus = SubscriptionHealth;

/** A record found in a ledger stream that is not one of ours (another application, the UI, a tombstone). */
export interface ForeignRecord {
  readonly streamName: string;
  readonly revision: string;
  readonly eventId: string;
  readonly type: string;
  readonly reason: string;
}

/** What the adapter makes of a record of `$all`: ours, not in the ledger, or in the ledger but not ours. */
export type Decoded = StoredEvent | undefined | { readonly foreign: ForeignRecord };

export interface LedgerSubscriptionOptions {
  readonly after: GlobalPosition;
  readonly batchSize: number;
  readonly prefixes: readonly string[];
  readonly signal?: AbortSignal | undefined;
  readonly onCaughtUp?: ((position: GlobalPosition) => void) | undefined;
  readonly policy?: ResubscribePolicy | undefined;
  readonly onResubscribe?: ((info: ResubscribeInfo) => void) | undefined;
  readonly onForeignRecord?: ((record: ForeignRecord) => void) | undefined;
  readonly toStored: (resolved: AllStreamResolvedEvent) => Decoded;
  /** Receives every change of the subscription's status. */
  readonly status?: ((status: SubscriptionStatus) => void) | undefined;
  readonly id?: number;
  /** For specs: the clock of `since`. */
  readonly now?: () => Date;
}

/** Something the server said between events, pinned to the number of events received before it. */
export type Marker =
  | { readonly at: number; readonly kind: 'caughtUp' }
  | { readonly at: number; readonly kind: 'checkpoint'; readonly position: Position };

/** The server closed the subscription without an error: treated like a transient failure. */
const ENDED = new Error('EventStoreDB ended the subscription');

/** State of one underlying ESDB subscription (a resubscription starts a fresh one). */
class Attempt {
  consumed = 0;
  failure: unknown = undefined;
  readonly markers: Marker[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(readonly sub: AllStreamSubscription) {}

  mark(marker: Marker): void {
    this.markers.push(marker);
    this.news();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.news();
  }

  /** Markers whose preceding events have all been consumed. */
  takeDueMarkers(): Marker[] {
    const due: Marker[] = [];
    while (this.markers.length > 0 && this.markers[0]!.at <= this.consumed) due.push(this.markers.shift()!);
    return due;
  }

  hasDueMarkers(): boolean {
    return this.markers.length > 0 && this.markers[0]!.at <= this.consumed;
  }

  onNews(wake: () => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }

  private news(): void {
    for (const l of [...this.listeners]) l();
  }
}

/**
 * A catch-up subscription to `$all`, filtered server-side on the ledger's stream prefixes (which also
 * excludes ESDB's `$` system streams), delivered in batches of what is buffered, and re-established from
 * its last position after any failure, forever: the client library does not resubscribe by itself, and a
 * subscription that ended would freeze every read model behind it. Failures are reported (onResubscribe,
 * the status) rather than thrown; only the abort signal ends the iteration.
 *
 * Where it resumes: the ESDB position of the last event received, or of the last *checkpoint* the server
 * sent after it (one per 32 events scanned by the filter), whichever came later; a checkpoint lets a
 * resubscription skip the non-ledger events already scanned. Delivered events are also compared with the
 * last delivered global position, so a resubscription never delivers an event twice.
 *
 * `onCaughtUp` relies on the server's CaughtUp message (EventStoreDB 23.10 and later). Markers (caught up,
 * checkpoint) arrive on the same gRPC stream as events but outside the readable's buffer: each is pinned
 * to the number of events received before it (taken plus still buffered), and takes effect only at the top
 * of the loop, once the batches holding those events have been handed over. Items are counted as taken the
 * moment they leave the buffer, so a marker processed while a batch is in hand is not pinned before it.
 *
 * Records in the ledger's streams that are not crm-ledger events (a tombstone, a write by another
 * application) are skipped, counted and reported: one foreign record must not stop every consumer.
 */
export async function* subscribeToLedger(
  client: EventStoreDBClient,
  options: LedgerSubscriptionOptions,
): AsyncGenerator<readonly StoredEvent[]> {
  const initialDelay = options.policy?.initialDelayMs ?? 200;
  const maxDelay = options.policy?.maxDelayMs ?? 5_000;
  const signal = options.signal;
  const now = options.now ?? (() => new Date());
  let delivered = options.after;
  let resumeFrom: ReadPosition = readFrom(options.after);
  let failures = 0;
  let status: SubscriptionStatus = {
    id: options.id ?? 0,
    state: 'connecting',
    since: now().toISOString(),
    position: delivered,
    attempts: 0,
    foreignSkipped: 0,
  };
  const report = (change: Partial<SubscriptionStatus>) => {
    const next = { ...status, ...change, position: delivered };
    const moved = next.state !== status.state;
    status = moved && change.since === undefined ? { ...next, since: now().toISOString() } : next;
    options.status?.(status);
  };
  const progressed = (state: 'catching-up' | 'live') => {
    failures = 0;
    if (status.state !== state && !(state === 'catching-up' && status.state === 'live')) {
      report({ state, attempts: 0 });
    }
  };
  report({});

  while (!isAborted(signal)) {
    const attempt: Attempt = new Attempt(
      client.subscribeToAll(
        {
          fromPosition: resumeFrom,
          filter: streamNameFilter({
            prefixes: [...options.prefixes],
            checkpointInterval: 1,
            checkpointReached: (_s, position) =>
              attempt.mark({
                at: attempt.consumed + attempt.sub.readableLength,
                kind: 'checkpoint',
                position,
              }),
          }),
        },
        // The readable holds about two batches; beyond that gRPC flow control holds the server back.
        { highWaterMark: Math.max(16, options.batchSize * 2) },
      ),
    );
    attempt.sub.on('error', (e: unknown) => attempt.fail(e));
    attempt.sub.on('caughtUp', () =>
      attempt.mark({ at: attempt.consumed + attempt.sub.readableLength, kind: 'caughtUp' }),
    );

    try {
      for (;;) {
        for (const m of attempt.takeDueMarkers()) {
          if (m.kind === 'checkpoint') {
            resumeFrom = m.position;
            progressed('catching-up');
          } else {
            progressed('live');
            options.onCaughtUp?.(delivered);
          }
        }
        const batch = await nextBatch<AllStreamResolvedEvent>(attempt.sub, options.batchSize, {
          signal,
          pending: () => attempt.failure !== undefined || attempt.hasDueMarkers(),
          onNews: (wake) => attempt.onNews(wake),
          taken: () => (attempt.consumed += 1),
        });
        if (batch === undefined) attempt.fail(ENDED);
        if (batch === undefined || batch.length === 0) {
          if (isAborted(signal) || attempt.failure !== undefined) break;
          continue;
        }
        const events: StoredEvent[] = [];
        for (const resolved of batch) {
          if (resolved.event !== undefined) resumeFrom = resolved.event.position;
          const decoded = options.toStored(resolved);
          if (decoded === undefined) continue;
          if ('foreign' in decoded) {
            report({ foreignSkipped: status.foreignSkipped + 1 });
            options.onForeignRecord?.(decoded.foreign);
            continue;
          }
          if (decoded.globalPosition > delivered) events.push(decoded);
        }
        progressed('catching-up');
        if (events.length > 0) {
          delivered = events[events.length - 1]!.globalPosition;
          yield events;
        }
      }
    } finally {
      // Wait for the cancellation only briefly: while the client is still discovering the cluster it would
      // only settle when discovery gives up (tens of seconds), and an abort must end the loop now.
      await Promise.race([attempt.sub.unsubscribe().catch(() => undefined), sleep(100)]);
    }
    if (isAborted(signal)) return;

    const failure = attempt.failure;
    const reason = failure === ENDED ? ENDED.message : translateReadError(failure).message;
    failures += 1;
    const delayMs = resubscribeDelay(failures, initialDelay, maxDelay);
    report({
      state: 'retrying',
      attempts: failures,
      lastError: reason,
      ...(status.state === 'retrying' ? { since: status.since } : {}),
    });
    options.onResubscribe?.({ attempt: failures, delayMs, reason, after: delivered });
    try {
      await sleep(delayMs, undefined, { signal });
    } catch {
      return; // aborted while waiting
    }
  }
}

/** Exponential backoff: `initial`, 2×, 4×... capped at `max`. */
export function resubscribeDelay(failures: number, initial: number, max: number): number {
  return Math.min(max, initial * 2 ** Math.max(0, failures - 1));
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
