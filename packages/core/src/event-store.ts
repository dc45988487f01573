import type { Either } from 'fp-ts/lib/Either.js';
import type { RawEnvelope, ValidationIssue } from '@crm-ledger/events';

/**
 * Position of an event in the global log: strictly increasing in commit order, starting at 1.
 * 0 means "before the first event", so a checkpoint of 0 reads from the beginning.
 * Positions may have gaps (EventStoreDB's commit positions do); never do arithmetic on them.
 */
export type GlobalPosition = number;

/** Revision of an event within its stream: 0, 1, 2... with no gaps. */
export type StreamRevision = number;

/**
 * What the appender expects of the stream:
 * - `'any'`: no check;
 * - `'no_stream'`: the stream must not exist yet;
 * - `'stream_exists'`: it must have at least one event;
 * - a number: the revision of the stream's last event (optimistic concurrency).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | StreamRevision;

/** An event as the store holds it: the envelope exactly as appended (never rewritten), and where it sits. */
export interface StoredEvent {
  readonly globalPosition: GlobalPosition;
  readonly streamName: string;
  readonly revision: StreamRevision;
  /** When the ledger learned of the event (ISO-8601 UTC), which differs from `occurredAt` for back-filled history. */
  readonly recordedAt: string;
  readonly event: RawEnvelope;
  /**
   * The chain link of this event (lower-case hex SHA-256 over the previous link of its stream and the stored
   * bytes: `chainLink` in chain.ts). `crm-ledger verify` recomputes every link.
   */
  readonly hash: string;
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  readonly streamName: string;
  /** Revision of the stream's last event after the append: pass it as the next expected revision. */
  readonly nextExpectedRevision: StreamRevision;
  /** Global position of each appended event, in order. */
  readonly positions: readonly GlobalPosition[];
  /** True when every event was already stored with the same content: nothing was written (a retry). */
  readonly duplicate: boolean;
}

export interface WrongExpectedRevision {
  readonly type: 'WrongExpectedRevision';
  readonly streamName: string;
  readonly expected: ExpectedRevision;
  /** The stream's actual last revision, or 'no_stream'. */
  readonly actual: StreamRevision | 'no_stream';
}

/** An event id is already stored with different content, or a batch mixes stored and new events. */
export interface IdempotencyConflict {
  readonly type: 'IdempotencyConflict';
  /** The stored event the request collides with (for `partial_batch`: the first of the batch already stored). */
  readonly eventId: string;
  readonly streamName: string;
  readonly reason: 'different_content' | 'different_stream' | 'partial_batch';
}

/** The request itself is wrong (bad stream name, empty batch, invalid envelope): nothing was written. */
export interface InvalidAppend {
  readonly type: 'InvalidAppend';
  readonly message: string;
  /** Index of the offending event in the batch, when one event is to blame. */
  readonly index?: number;
  readonly issues?: readonly ValidationIssue[];
}

/** The store could not be reached or failed (I/O error, closed, timeout). Retry may help. */
export interface StoreUnavailable {
  readonly type: 'StoreUnavailable';
  readonly message: string;
  readonly cause?: unknown;
}

/**
 * The customer was erased (their key destroyed, see docs/privacy.md): the ledger takes no new facts about them.
 * Only a store decorated with crypto-shredding (`@crm-ledger/pii`) answers it.
 */
export interface CustomerGone {
  readonly type: 'CustomerGone';
  readonly customerId: string;
  readonly streamName: string;
}

export type AppendError =
  WrongExpectedRevision | IdempotencyConflict | InvalidAppend | StoreUnavailable | CustomerGone;
export type ReadError = InvalidAppend | StoreUnavailable;

export interface ReadStreamOptions {
  /** First revision to return (inclusive), default 0. */
  readonly fromRevision?: StreamRevision;
  /** At most this many events, default all. */
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Return events after this position (exclusive): a checkpoint. Default 0 (from the start). */
  readonly after?: GlobalPosition;
  /** Stop after this position (inclusive): for "as of" rebuilds. Default: the end of the log. */
  readonly until?: GlobalPosition;
  /** Events per page, default 1000. Only one page is in memory at a time. */
  readonly batchSize?: number;
}

export interface SubscribeOptions {
  readonly after?: GlobalPosition;
  readonly batchSize?: number;
  /** Aborting ends the iteration (the for-await loop returns). */
  readonly signal?: AbortSignal;
  /** Called each time the subscription has delivered everything stored and is waiting for new events. */
  readonly onCaughtUp?: (position: GlobalPosition) => void;
}

/**
 * The event store port: an append-only log of customer streams with one global order.
 * Every implementation passes `@crm-ledger/store-conformance`.
 *
 * Expected failures come back as `Left` values; a thrown error is a bug or an infrastructure failure
 * mid-iteration (the async iterables throw, there is no Either inside a for-await).
 */
export interface EventStore {
  /**
   * Appends a batch to one stream atomically: all events or none.
   * Idempotent by `eventId`: the same events again (same ids, same content) succeed with `duplicate: true`
   * and write nothing, whatever the expected revision; the same id with different content is an
   * `IdempotencyConflict`.
   */
  append(
    streamName: string,
    events: readonly RawEnvelope[],
    options?: AppendOptions,
  ): Promise<Either<AppendError, AppendResult>>;

  /** Reads one stream forwards. A stream that does not exist reads as empty. */
  readStream(
    streamName: string,
    options?: ReadStreamOptions,
  ): Promise<Either<ReadError, readonly StoredEvent[]>>;

  /** Reads the global log forwards in pages; never holds more than one page. Ends at the end of the log (or `until`). */
  readAll(options?: ReadAllOptions): AsyncIterable<readonly StoredEvent[]>;

  /** Catch-up subscription: reads from the checkpoint, then turns live and waits for new events until aborted. */
  subscribe(options?: SubscribeOptions): AsyncIterable<readonly StoredEvent[]>;

  /** Position of the last stored event (0 when empty): for progress and lag. */
  headPosition(): Promise<GlobalPosition>;

  /** Position of the last event recorded at or before `time` (ISO-8601), 0 if none: for "as of a time" rebuilds. */
  positionAt(time: string): Promise<GlobalPosition>;

  close(): Promise<void>;

  /**
   * Optional: the state of the store's own subscriptions, for `/ready` and metrics, when the store keeps them
   * alive itself (EventStoreDB: a subscription that lost its server retries forever and says so here).
   */
  subscriptionStatus?(): readonly SubscriptionHealth[];
}

/** What one subscription of a store is doing (see {@link EventStore.subscriptionStatus}). Times are ISO-8601. */
export interface SubscriptionHealth {
  readonly id: number;
  readonly state: 'connecting' | 'catching-up' | 'live' | 'retrying';
  /** When this state began; for `retrying`, when the first failure of the streak happened. */
  readonly since: string;
  /** The last global position handed to the consumer. */
  readonly position: GlobalPosition;
  /** Consecutive failures (0 unless retrying). */
  readonly attempts: number;
  readonly lastError?: string;
  /** Records in the ledger's streams that are not crm-ledger events: skipped and counted. */
  readonly foreignSkipped: number;
}
