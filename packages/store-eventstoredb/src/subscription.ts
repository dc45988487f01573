import { setTimeout as sleep } from 'node:timers/promises';
import {
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Position,
  type ReadPosition,
} from '@eventstore/db-client';
import type { GlobalPosition, StoredEvent } from '@crm-ledger/core';
import { isTransient, translateReadError } from './errors.js';
import { readFrom } from './positions.js';
import { nextBatch } from './readable-batches.js';

/** How a subscription that failed is re-established. Backoff doubles from `initialDelayMs` up to `maxDelayMs`. */
export interface ResubscribePolicy {
  /** Consecutive failures (without any progress in between) before the iteration throws. Default 10. */
  readonly maxAttempts?: number;
  /** Default 200 ms. */
  readonly initialDelayMs?: number;
  /** Default 5 s. */
  readonly maxDelayMs?: number;
}

export interface ResubscribeInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
  /** The last position handed to the consumer: nothing at or before it is delivered again. */
  readonly after: GlobalPosition;
}

export interface LedgerSubscriptionOptions {
  readonly after: GlobalPosition;
  readonly batchSize: number;
  readonly prefixes: readonly string[];
  readonly signal?: AbortSignal | undefined;
  readonly onCaughtUp?: ((position: GlobalPosition) => void) | undefined;
  readonly policy?: ResubscribePolicy | undefined;
  readonly onResubscribe?: ((info: ResubscribeInfo) => void) | undefined;
  readonly toStored: (resolved: AllStreamResolvedEvent) => StoredEvent | undefined;
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
 * its last position after a transient failure: the client library does not resubscribe by itself.
 *
 * Where it resumes: the ESDB position of the last event received, or of the last *checkpoint* the server
 * sent after it (one per 32 events scanned by the filter), whichever came later; a checkpoint lets a
 * resubscription skip the non-ledger events already scanned. Delivered events are also compared with the
 * last delivered global position, so a resubscription never delivers an event twice.
 *
 * `onCaughtUp` relies on the server's CaughtUp message (EventStoreDB 23.10 and later). Markers (caught up,
 * checkpoint) arrive on the same gRPC stream as events but outside the readable's buffer: each is pinned
 * to the number of events buffered when it arrived, and takes effect once those have been consumed.
 */
export async function* subscribeToLedger(
  client: EventStoreDBClient,
  options: LedgerSubscriptionOptions,
): AsyncGenerator<readonly StoredEvent[]> {
  const maxAttempts = options.policy?.maxAttempts ?? 10;
  const initialDelay = options.policy?.initialDelayMs ?? 200;
  const maxDelay = options.policy?.maxDelayMs ?? 5_000;
  const signal = options.signal;
  let delivered = options.after;
  let resumeFrom: ReadPosition = readFrom(options.after);
  let failures = 0;

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
          failures = 0;
          if (m.kind === 'checkpoint') resumeFrom = m.position;
          else options.onCaughtUp?.(delivered);
        }
        const batch = await nextBatch<AllStreamResolvedEvent>(attempt.sub, options.batchSize, {
          signal,
          pending: () => attempt.failure !== undefined || attempt.hasDueMarkers(),
          onNews: (wake) => attempt.onNews(wake),
        });
        if (batch === undefined) attempt.fail(ENDED);
        if (batch === undefined || batch.length === 0) {
          if (isAborted(signal) || attempt.failure !== undefined) break;
          continue;
        }
        const events: StoredEvent[] = [];
        for (const resolved of batch) {
          attempt.consumed += 1;
          if (resolved.event !== undefined) resumeFrom = resolved.event.position;
          const stored = options.toStored(resolved);
          if (stored !== undefined && stored.globalPosition > delivered) events.push(stored);
        }
        failures = 0;
        if (events.length > 0) {
          delivered = events[events.length - 1]!.globalPosition;
          yield events;
        }
      }
    } finally {
      await attempt.sub.unsubscribe();
    }
    if (isAborted(signal)) return;

    const failure = attempt.failure;
    const reason = failure === ENDED ? ENDED.message : translateReadError(failure).message;
    failures += 1;
    if (failure !== ENDED && !isTransient(failure)) {
      throw new Error(`EventStoreDB subscription failed: ${reason}`, { cause: failure });
    }
    if (failures > maxAttempts) {
      throw new Error(`EventStoreDB subscription failed ${failures} times in a row: ${reason}`, {
        cause: failure,
      });
    }
    const delayMs = resubscribeDelay(failures, initialDelay, maxDelay);
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
