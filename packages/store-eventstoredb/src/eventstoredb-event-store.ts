import {
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  isCommandError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type JSONEventData,
  type ResolvedEvent,
} from '@eventstore/db-client';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import {
  GENESIS_LINK,
  chainBatch,
  storedBytesOf,
  type AppendError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type ReadAllOptions,
  type ReadError,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeOptions,
} from '@crm-ledger/core';
import { CUSTOMER_STREAM_PREFIX, type RawEnvelope } from '@crm-ledger/events';
import { appendSize, fromRecordedEvent, toEventData } from './codec.js';
import { translateAppendError, translateReadError } from './errors.js';
import { classifyBatch } from './idempotency.js';
import { readFrom } from './positions.js';
import { concreteExpectedRevision, fromEsdbRevision, retriableAfterRace } from './revisions.js';
import { subscribeToLedger, type ResubscribePolicy, type ResubscribeInfo } from './subscription.js';
import { checkBatch, checkExpected, checkStreamName, type Validation } from './validate.js';

export interface EventStoreDbOptions {
  /** e.g. `esdb://localhost:2113?tls=false`, or `esdb+discover://node1,node2,node3:2113` for a cluster. */
  readonly connectionString: string;
  /**
   * Only streams with these prefixes are part of the ledger: appends elsewhere are refused, and reads of
   * `$all` and subscriptions filter on them (which also drops ESDB's `$` system streams). Default `customer-`.
   */
  readonly streamPrefixes?: readonly string[];
  /**
   * Prefix of every ESDB stream name this store writes and reads (default none): several ledgers (or test
   * runs) can share one cluster, each seeing only its own streams. The port's stream names never include it.
   * Leave it empty in production: `$ce-customer` (ESDB's category projection) needs names starting with `customer-`.
   */
  readonly namespace?: string;
  /** `'catalogue'` (default) validates every event against the zod catalogue; `'envelope'` only the envelope. */
  readonly validation?: Validation;
  /**
   * Bytes of data + metadata one append may carry: the server's `MaxAppendSize` (default 1 MiB). Bigger
   * batches are refused with `InvalidAppend` before anything is sent (splitting would break the port's
   * all-or-nothing promise).
   */
  readonly maxAppendSize?: number;
  /** How many times an append with 'any' / 'stream_exists' is retried when another writer raced it. Default 5. */
  readonly maxAppendAttempts?: number;
  /** Deadline of each vendor call in ms (default: the client's, 10 s). Subscriptions have none. */
  readonly deadlineMs?: number;
  /** How a failed subscription is re-established. */
  readonly resubscribe?: ResubscribePolicy;
  /** Told about every resubscription (for the service's logger). */
  readonly onResubscribe?: (info: ResubscribeInfo) => void;
}

/** ESDB's default `MaxAppendSize`. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

const unavailable = (message: string): ReadError => ({ type: 'StoreUnavailable', message });

/**
 * The event store port over EventStoreDB. See the package README for what differs from the embedded store
 * (positions with gaps, how idempotency is enforced, `positionAt` cost).
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly prefixes: readonly string[];
  private readonly namespace: string;
  private readonly validation: Validation;
  private readonly maxAppendSize: number;
  private readonly maxAppendAttempts: number;
  private readonly callOptions: { deadline?: number };
  private closed = false;

  constructor(private readonly options: EventStoreDbOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.prefixes = options.streamPrefixes ?? [CUSTOMER_STREAM_PREFIX];
    this.namespace = options.namespace ?? '';
    if (!/^[A-Za-z0-9._:@-]*$/.test(this.namespace)) {
      throw new Error(`namespace '${this.namespace}' may only hold A-Z a-z 0-9 . _ : @ -`);
    }
    this.validation = options.validation ?? 'catalogue';
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
    this.maxAppendAttempts = options.maxAppendAttempts ?? 5;
    this.callOptions = options.deadlineMs === undefined ? {} : { deadline: options.deadlineMs };
  }

  async append(
    streamName: string,
    events: readonly RawEnvelope[],
    options: AppendOptions = {},
  ): Promise<E.Either<AppendError, AppendResult>> {
    if (this.closed) return E.left({ type: 'StoreUnavailable', message: 'the event store is closed' });
    const checked = pipe(
      E.Do,
      E.apS('stream', checkStreamName(streamName)),
      E.apS('expected', checkExpected(options.expectedRevision ?? 'any')),
      E.bind('events', ({ stream }) => checkBatch(stream, events, this.validation)),
    );
    if (E.isLeft(checked)) return checked;
    const { stream, expected, events: batch } = checked.right;
    if (!this.prefixes.some((p) => stream.startsWith(p))) {
      return E.left({
        type: 'InvalidAppend',
        message: `stream ${stream} does not start with ${this.prefixes.join(' or ')}: this store reads $all filtered on those prefixes`,
      });
    }
    // Links are computed per attempt from the stream head; a placeholder of the same length sizes the batch.
    const size = appendSize(batch.map((e) => toEventData(e, GENESIS_LINK)));
    if (size > this.maxAppendSize) {
      return E.left({
        type: 'InvalidAppend',
        message: `the batch is ${size} bytes, over EventStoreDB's maximum append size of ${this.maxAppendSize}: append fewer events at a time (an append is all-or-nothing, so the store does not split it)`,
      });
    }
    for (let attempt = 1; ; attempt++) {
      const result = await this.appendOnce(stream, batch, expected);
      const raced =
        E.isLeft(result) && result.left.type === 'WrongExpectedRevision' && retriableAfterRace(expected);
      if (!raced || attempt >= this.maxAppendAttempts) {
        if (raced && expected === 'any') {
          return E.left({
            type: 'StoreUnavailable',
            message: `stream ${stream} kept changing during ${attempt} append attempts: retry later`,
          });
        }
        return result;
      }
    }
  }

  /**
   * One attempt: read the stream, decide duplicate / conflict / new against its contents, append with a
   * concrete expected revision, then read the appended events back for their positions and to confirm
   * them (a concurrent writer of the same ids makes ESDB answer "success" without comparing content).
   * The links chain to the head read here; the concrete expected revision makes a racing writer fail the
   * append rather than leave two events chained to the same link.
   */
  private async appendOnce(
    stream: string,
    batch: readonly RawEnvelope[],
    expected: ExpectedRevision,
  ): Promise<E.Either<AppendError, AppendResult>> {
    const stored = await this.readWholeStream(stream)();
    if (E.isLeft(stored)) return stored;
    const existing = stored.right;
    const last = existing.length === 0 ? undefined : existing[existing.length - 1]!;
    const classified = classifyBatch(stream, existing, batch);
    switch (classified.kind) {
      case 'conflict':
        return E.left(classified.conflict);
      case 'duplicate':
        return E.right({
          streamName: stream,
          nextExpectedRevision: last!.revision,
          positions: classified.stored.map((s) => s.globalPosition),
          duplicate: true,
        });
      case 'new':
        break;
    }
    const concrete = concreteExpectedRevision(
      stream,
      expected,
      last === undefined ? 'no_stream' : last.revision,
    );
    if (!concrete.ok) return E.left(concrete.error);
    const links = chainBatch(
      last?.hash ?? GENESIS_LINK,
      stream,
      last === undefined ? 0 : last.revision + 1,
      batch.map(storedBytesOf),
    );
    const data = batch.map((e, i) => toEventData(e, links[i]!));
    return pipe(
      this.appendToEsdb(stream, data, concrete.revision, expected),
      TE.flatMap((next) => this.confirmAppended(stream, batch, next)),
    )();
  }

  private appendToEsdb(
    stream: string,
    data: readonly JSONEventData[],
    revision: AppendExpectedRevision,
    expected: ExpectedRevision,
  ): TE.TaskEither<AppendError, number> {
    return TE.tryCatch(
      async () => {
        const r = await this.client.appendToStream(this.namespace + stream, [...data], {
          expectedRevision: revision,
          ...this.callOptions,
        });
        return fromEsdbRevision(r.nextExpectedRevision);
      },
      (e) => translateAppendError(e, stream, expected),
    );
  }

  private confirmAppended(
    stream: string,
    batch: readonly RawEnvelope[],
    nextExpectedRevision: number,
  ): TE.TaskEither<AppendError, AppendResult> {
    const first = nextExpectedRevision - batch.length + 1;
    return pipe(
      this.readStreamRange(stream, first, batch.length),
      TE.flatMap((written): TE.TaskEither<AppendError, AppendResult> => {
        const classified = classifyBatch(stream, written, batch);
        if (classified.kind === 'conflict') return TE.left(classified.conflict);
        if (classified.kind === 'new' || classified.stored.length !== batch.length) {
          return TE.left({
            type: 'StoreUnavailable',
            message: `stream ${stream} does not hold the appended events at revisions ${first}..${nextExpectedRevision}`,
          });
        }
        return TE.right({
          streamName: stream,
          nextExpectedRevision,
          positions: classified.stored.map((s) => s.globalPosition),
          duplicate: false,
        });
      }),
    );
  }

  async readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<E.Either<ReadError, readonly StoredEvent[]>> {
    if (this.closed) return E.left(unavailable('the event store is closed'));
    const from = options.fromRevision ?? 0;
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const name = checkStreamName(streamName);
    if (E.isLeft(name)) return name;
    if (!Number.isSafeInteger(from) || from < 0) {
      return E.left({ type: 'InvalidAppend', message: 'fromRevision must be a non-negative integer' });
    }
    if (!Number.isSafeInteger(max) || max < 1) {
      return E.left({ type: 'InvalidAppend', message: 'maxCount must be a positive integer' });
    }
    return this.readStreamRange(streamName, from, max)();
  }

  private readWholeStream(stream: string): TE.TaskEither<ReadError, readonly StoredEvent[]> {
    return this.readStreamRange(stream, 0, Number.MAX_SAFE_INTEGER);
  }

  /** One vendor call: the events of a stream from a revision; a stream that does not exist reads as empty. */
  private readStreamRange(
    stream: string,
    from: number,
    max: number,
  ): TE.TaskEither<ReadError, StoredEvent[]> {
    return TE.tryCatch(async () => {
      const out: StoredEvent[] = [];
      const read = this.client.readStream(this.namespace + stream, {
        fromRevision: BigInt(from),
        maxCount: max,
        direction: FORWARDS,
        ...this.callOptions,
      });
      try {
        for await (const resolved of read as AsyncIterable<ResolvedEvent>) {
          if (resolved.event !== undefined) out.push(fromRecordedEvent(resolved.event, this.namespace));
        }
      } catch (error) {
        // ESDB reports a missing stream while iterating, not at the call: the port reads it as empty.
        if (error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_NOT_FOUND)
          return [];
        throw error;
      }
      return out;
    }, translateReadError);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    const after = options.after ?? 0;
    const until = options.until ?? Number.MAX_SAFE_INTEGER;
    const size = options.batchSize ?? 1000;
    assertPosition(after, 'after');
    assertPosition(until, 'until');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
    if (this.closed) throw new Error('the event store is closed');
    // One streaming read of $all: gRPC flow control keeps only a small window in memory besides the page.
    const read = this.client.readAll({
      fromPosition: readFrom(after),
      direction: FORWARDS,
      maxCount: Number.MAX_SAFE_INTEGER,
      ...this.callOptions,
    });
    let page: StoredEvent[] = [];
    try {
      for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
        const stored = this.ledgerEvent(resolved);
        if (stored === undefined || stored.globalPosition <= after) continue;
        if (stored.globalPosition > until) break;
        page.push(stored);
        if (page.length >= size) {
          yield page;
          page = [];
        }
      }
    } catch (error) {
      throw new Error(translateReadError(error).message, { cause: error });
    } finally {
      await read.cancel();
    }
    if (page.length > 0) yield page;
  }

  subscribe(options: SubscribeOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    const after = options.after ?? 0;
    const size = options.batchSize ?? 1000;
    assertPosition(after, 'after');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
    return subscribeToLedger(this.client, {
      after,
      batchSize: size,
      prefixes: this.prefixes.map((p) => this.namespace + p),
      signal: options.signal,
      onCaughtUp: options.onCaughtUp,
      policy: this.options.resubscribe,
      onResubscribe: this.options.onResubscribe,
      toStored: (r) => this.ledgerEvent(r),
    });
  }

  /**
   * The last event of the ledger: reads `$all` backwards from the end and stops at the first event of a
   * ledger stream (system events and other streams written after it are skipped on the client).
   */
  async headPosition(): Promise<GlobalPosition> {
    return (await this.lastWhere(() => true))?.globalPosition ?? 0;
  }

  /**
   * ESDB has no index by time: reads `$all` backwards from the end until the first ledger event recorded
   * at or before `time`, so the cost grows with the number of events after `time` (fine for "as of last
   * month" on a ledger; a rebuild as of years ago reads most of the log once). `recordedAt` is the
   * leader's clock at commit: across a leader change with clock skew it may step back a little, and the
   * answer is then the last such event in log order.
   */
  async positionAt(time: string): Promise<GlobalPosition> {
    const ms = typeof time === 'string' ? Date.parse(time) : Number.NaN;
    if (Number.isNaN(ms)) throw new RangeError(`positionAt: '${String(time)}' is not an ISO-8601 time`);
    const target = new Date(ms).toISOString();
    return (await this.lastWhere((e) => e.recordedAt <= target))?.globalPosition ?? 0;
  }

  private async lastWhere(predicate: (e: StoredEvent) => boolean): Promise<StoredEvent | undefined> {
    if (this.closed) throw new Error('the event store is closed');
    const read = this.client.readAll({
      fromPosition: END,
      direction: BACKWARDS,
      maxCount: Number.MAX_SAFE_INTEGER,
      ...this.callOptions,
    });
    try {
      for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
        const stored = this.ledgerEvent(resolved);
        if (stored !== undefined && predicate(stored)) return stored;
      }
      return undefined;
    } catch (error) {
      throw new Error(translateReadError(error).message, { cause: error });
    } finally {
      await read.cancel();
    }
  }

  /** Whether an ESDB stream (with the namespace) belongs to this ledger. */
  private inLedger(esdbStream: string): boolean {
    return this.prefixes.some((p) => esdbStream.startsWith(this.namespace + p));
  }

  private ledgerEvent(resolved: AllStreamResolvedEvent): StoredEvent | undefined {
    const recorded = resolved.event;
    if (recorded === undefined || !this.inLedger(recorded.streamId)) return undefined;
    return fromRecordedEvent(recorded, this.namespace);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.dispose();
  }
}

function assertPosition(p: number, name: string): void {
  if (!Number.isSafeInteger(p) || p < 0)
    throw new RangeError(`${name} must be a non-negative integer position`);
}

/** Connects (lazily, at the first call) to EventStoreDB and returns the event store port over it. */
export function openEventStoreDbStore(options: EventStoreDbOptions): EventStoreDbEventStore {
  return new EventStoreDbEventStore(options);
}
