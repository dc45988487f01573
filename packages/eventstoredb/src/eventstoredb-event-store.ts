import { setTimeout as sleep } from 'node:timers/promises';
import {
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  isCommandError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult as EsdbAppendResult,
  type JSONEventData,
  type ReadRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
// The single-call Append RPC of the client (what it uses when the server has no BatchAppend), imported
// directly: its BatchAppend path keeps a module-wide promise bank that fails written appends and throws
// an uncaught TypeError after a reconnect (upstream PR #523, unreleased for 6.2.1). See README, "Appends".
import { append as unaryAppend } from '@eventstore/db-client/dist/streams/appendToStream/append.js';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import {
  GENESIS_LINK,
  STORE_CLOSED,
  chainBatch,
  invalidAppend,
  isStoreUnavailable,
  isWrongExpectedRevision,
  storeUnavailable,
  storedBytesOf,
  validateAppend,
  validateReadStream,
  type AppendValidation,
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
import { appendSize, decodeRecorded, toEventData } from './codec.js';
import { isNotLeader, translateAppendError, translateReadError } from './errors.js';
import { classifyBatch } from './idempotency.js';
import { readFrom } from './positions.js';
import { concreteExpectedRevision, fromEsdbRevision, retriableAfterRace } from './revisions.js';
import {
  subscribeToLedger,
  type Decoded,
  type ForeignRecord,
  type ResubscribePolicy,
  type ResubscribeInfo,
  type SubscriptionStatus,
} from './subscription.js';
import { checkConnectionString } from './connection.js';

export interface EventStoreDbOptions {
  /**
   * `esdb://localhost:2113?tls=false` for one node; for a cluster the **seed list**
   * `esdb://node1:2113,node2:2113,node3:2113` (the client gossips with each seed until one answers).
   * `esdb+discover://` with several hosts is refused: the 6.2.1 client would gossip with the first host only
   * (so with node1 down nothing connects); `esdb+discover://` with one DNS name that resolves to every node is fine.
   */
  readonly connectionString: string;
  /**
   * Only streams with these prefixes are part of the ledger: appends elsewhere are refused, and reads of
   * `$all` and subscriptions filter on them (which also drops ESDB's `$` system streams). Default `customer-`.
   */
  readonly streamPrefixes?: readonly string[];
  /**
   * Prefix of every ESDB stream name this store writes and reads (default none): several ledgers (or another
   * application with its own `customer-` streams) can share one cluster, each seeing only its own streams.
   * The port's stream names never include it. ESDB's `$ce-customer` category projection then sees no ledger
   * streams (the category is the part before the first `-`); use a namespace without `-`, e.g. `crmledger.`.
   */
  readonly namespace?: string;
  /** `'catalogue'` (default) validates every event against the zod catalogue; `'envelope'` only the envelope. */
  readonly validation?: AppendValidation;
  /**
   * Bytes of data + metadata one append may carry: the server's `MaxAppendSize` (default 1 MiB). Bigger
   * batches are refused with `InvalidAppend` before anything is sent (splitting would break the port's
   * all-or-nothing promise).
   */
  readonly maxAppendSize?: number;
  /**
   * How many times an append with 'any' / 'stream_exists' is tried when other writers keep racing it (each
   * retry waits a random backoff up to 2^attempt × 5 ms, capped at 250 ms). Default 20.
   */
  readonly maxAppendAttempts?: number;
  /**
   * How many of a stream's last events an append reads to recognise a retry (same ids) when the caller's
   * expected revision is 'any' or 'stream_exists' (with a concrete revision or 'no_stream' the check is
   * exact whatever the stream's length). Default 1000. A retry of a batch older than that is appended again.
   */
  readonly idempotencyWindow?: number;
  /**
   * Deadline in ms of each vendor call, reads included (the client applies none to reads: a stalled node
   * would hang them forever). For `readAll` it bounds the wait for each next event. Default 10 s.
   */
  readonly deadlineMs?: number;
  /** How long `headPosition()` answers from its last read of `$all` (a `/ready` probe every second reads once). Default 1 s. */
  readonly headCacheMs?: number;
  /** How a failed subscription is re-established (forever, with capped backoff). */
  readonly resubscribe?: ResubscribePolicy;
  /** Told about every resubscription (for the service's logger). */
  readonly onResubscribe?: (info: ResubscribeInfo) => void;
  /** Told about every change of a subscription's status (for `/ready` and metrics). */
  readonly onSubscriptionStatus?: (status: SubscriptionStatus) => void;
  /**
   * Told about every record found in a ledger stream that is not a crm-ledger event (a tombstone, a write by
   * the UI or another application): it is skipped by reads and subscriptions, never delivered, never fatal.
   */
  readonly onForeignRecord?: (record: ForeignRecord) => void;
}

/** ESDB's default `MaxAppendSize`. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;
const DEFAULT_DEADLINE_MS = 10_000;

/** One record of a stream as read for an append: ours (decoded) or foreign (only its revision matters). */
interface StreamRecord {
  readonly revision: number;
  readonly stored?: StoredEvent;
}

/**
 * The event store port over EventStoreDB. See the package README for what differs from the embedded store
 * (positions with gaps, how idempotency is enforced, `positionAt` cost) and how it behaves in a cluster.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly prefixes: readonly string[];
  private readonly namespace: string;
  private readonly validation: AppendValidation;
  private readonly maxAppendSize: number;
  private readonly maxAppendAttempts: number;
  private readonly idempotencyWindow: number;
  private readonly deadlineMs: number;
  private readonly headCacheMs: number;
  private readonly statuses = new Map<number, SubscriptionStatus>();
  private nextSubscriptionId = 1;
  private head: { at: number; value: Promise<GlobalPosition> } | undefined;
  private closed = false;

  constructor(private readonly options: EventStoreDbOptions) {
    const checked = checkConnectionString(options.connectionString);
    if (E.isLeft(checked)) throw new Error(checked.left);
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.prefixes = options.streamPrefixes ?? [CUSTOMER_STREAM_PREFIX];
    this.namespace = options.namespace ?? '';
    if (!/^[A-Za-z0-9._:@-]*$/.test(this.namespace)) {
      throw new Error(`namespace '${this.namespace}' may only hold A-Z a-z 0-9 . _ : @ -`);
    }
    this.validation = options.validation ?? 'catalogue';
    this.maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
    this.maxAppendAttempts = options.maxAppendAttempts ?? 20;
    this.idempotencyWindow = options.idempotencyWindow ?? 1000;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.headCacheMs = options.headCacheMs ?? 1000;
  }

  async append(
    streamName: string,
    events: readonly RawEnvelope[],
    options: AppendOptions = {},
  ): Promise<E.Either<AppendError, AppendResult>> {
    if (this.closed) return E.left(storeUnavailable(STORE_CLOSED));
    const checked = validateAppend(streamName, events, options.expectedRevision ?? 'any', this.validation);
    if (E.isLeft(checked)) return checked;
    const { streamName: stream, expected, events: batch } = checked.right;
    if (!this.prefixes.some((p) => stream.startsWith(p))) {
      return E.left(
        invalidAppend(
          `stream ${stream} does not start with ${this.prefixes.join(' or ')}: this store reads $all filtered on those prefixes`,
        ),
      );
    }
    // Links are computed per attempt from the stream head; a placeholder of the same length sizes the batch.
    const size = appendSize(batch.map((e) => toEventData(e, GENESIS_LINK)));
    if (size > this.maxAppendSize) {
      return E.left(
        invalidAppend(
          `the batch is ${size} bytes, over EventStoreDB's maximum append size of ${this.maxAppendSize}: append fewer events at a time (an append is all-or-nothing, so the store does not split it)`,
        ),
      );
    }
    let leaderChanges = 0;
    for (let attempt = 1; ; attempt++) {
      const result = await this.appendOnce(stream, batch, expected);
      if (E.isLeft(result) && isNotLeaderFailure(result.left) && leaderChanges < 3) {
        // The node we reached is a follower: the client has switched to the leader it named; try there.
        leaderChanges += 1;
        attempt -= 1;
        continue;
      }
      const raced = E.isLeft(result) && isWrongExpectedRevision(result.left) && retriableAfterRace(expected);
      if (!raced || attempt >= this.maxAppendAttempts) {
        if (raced && expected === 'any') {
          return E.left(
            storeUnavailable(`stream ${stream} kept changing during ${attempt} append attempts: retry later`),
          );
        }
        if (E.isRight(result)) this.sawHead(result.right.positions.at(-1));
        return result;
      }
      // Other writers on the same stream: back off a random while so they stop colliding.
      await sleep(Math.random() * Math.min(250, 5 * 2 ** attempt));
    }
  }

  /**
   * One attempt: read what is needed to decide duplicate / conflict / new (a bounded window of the stream,
   * never all of it), append with a concrete expected revision, then read the appended events back for their
   * positions and to confirm them (a concurrent writer of the same ids makes ESDB answer "success" without
   * comparing content). The links chain to the last of our events read here; the concrete expected revision
   * makes a racing writer fail the append rather than leave two events chained to the same link. Every read
   * asks for the leader: a follower may not have our own last write yet.
   */
  private async appendOnce(
    stream: string,
    batch: readonly RawEnvelope[],
    expected: ExpectedRevision,
  ): Promise<E.Either<AppendError, AppendResult>> {
    const tail = await this.readTail(stream)();
    if (E.isLeft(tail)) return tail;
    const { records, headRevision } = tail.right;
    let candidates = records;
    if (typeof expected === 'number' && headRevision !== undefined && expected < headRevision) {
      // A retry sits right after the revision the caller expected: read exactly there.
      const at = await this.readRecords(stream, expected + 1, batch.length)();
      if (E.isLeft(at)) return at;
      candidates = at.right;
    } else if (expected === 'no_stream' && headRevision !== undefined) {
      const at = await this.readRecords(stream, 0, batch.length)();
      if (E.isLeft(at)) return at;
      candidates = at.right;
    }
    const ours = candidates.flatMap((r) => (r.stored === undefined ? [] : [r.stored]));
    const lastOurs = records.findLast((r) => r.stored !== undefined)?.stored;
    const classified = classifyBatch(stream, ours, batch);
    switch (classified.kind) {
      case 'conflict':
        return E.left(classified.conflict);
      case 'duplicate':
        return E.right({
          streamName: stream,
          nextExpectedRevision: headRevision!,
          positions: classified.stored.map((s) => s.globalPosition),
          duplicate: true,
        });
      case 'new':
        break;
    }
    const concrete = concreteExpectedRevision(
      stream,
      expected,
      headRevision === undefined ? 'no_stream' : headRevision,
    );
    if (E.isLeft(concrete)) return concrete;
    const first = headRevision === undefined ? 0 : headRevision + 1;
    const links = chainBatch(lastOurs?.hash ?? GENESIS_LINK, stream, first, batch.map(storedBytesOf));
    const data = batch.map((e, i) => toEventData(e, links[i]!));
    const appended = await this.appendToEsdb(stream, data, concrete.right, expected)();
    if (E.isLeft(appended)) {
      if (appended.left.type !== 'StoreUnavailable') return appended;
      // The outcome is unknown (the connection broke, a failover): the append may well have been written.
      // Look before answering, so a written append is not reported failed.
      const landed = await this.confirmAppended(stream, batch, first + batch.length - 1)();
      return E.isRight(landed) ? landed : appended;
    }
    return this.confirmAppended(stream, batch, appended.right)();
  }

  private appendToEsdb(
    stream: string,
    data: readonly JSONEventData[],
    revision: AppendExpectedRevision,
    expected: ExpectedRevision,
  ): TE.TaskEither<AppendError, number> {
    return TE.tryCatch(
      async () => {
        const r: EsdbAppendResult = await unaryAppend.call(this.client, this.namespace + stream, [...data], {
          expectedRevision: revision,
          batchAppendSize: this.maxAppendSize,
          requiresLeader: true,
          deadline: this.deadlineMs,
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
      this.readRecords(stream, first, batch.length),
      TE.flatMap((records): TE.TaskEither<AppendError, AppendResult> => {
        const written = records.flatMap((r) => (r.stored === undefined ? [] : [r.stored]));
        const classified = classifyBatch(stream, written, batch);
        if (classified.kind === 'conflict') return TE.left(classified.conflict);
        if (classified.kind === 'new' || classified.stored.length !== batch.length) {
          return TE.left(
            storeUnavailable(
              `stream ${stream} does not hold the appended events at revisions ${first}..${nextExpectedRevision}`,
            ),
          );
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
    if (this.closed) return E.left(storeUnavailable(STORE_CLOSED));
    const checked = validateReadStream(streamName, options);
    if (E.isLeft(checked)) return checked;
    const { from, max } = checked.right;
    for (let leaderChanges = 0; ; leaderChanges++) {
      const read = await this.readRecords(streamName, from, max)();
      if (E.isLeft(read) && isNotLeaderFailure(read.left) && leaderChanges < 3) continue;
      // Foreign records (reported by readRecords) are skipped: their revisions are missing from the answer.
      return E.map((records: readonly StreamRecord[]) =>
        records.flatMap((r) => (r.stored === undefined ? [] : [r.stored])),
      )(read);
    }
  }

  /** The last `idempotencyWindow` records of a stream (backwards from its end), in order, and its head revision. */
  private readTail(
    stream: string,
  ): TE.TaskEither<ReadError, { records: StreamRecord[]; headRevision: number | undefined }> {
    return pipe(
      this.readRaw(stream, END, BACKWARDS, this.idempotencyWindow),
      TE.map((backwards) => {
        const records = backwards.reverse();
        return { records, headRevision: records.at(-1)?.revision };
      }),
    );
  }

  private readRecords(stream: string, from: number, max: number): TE.TaskEither<ReadError, StreamRecord[]> {
    return this.readRaw(stream, BigInt(from), FORWARDS, max);
  }

  /**
   * One vendor call, on the leader, under the deadline: records of a stream; a stream that does not exist
   * (or was deleted) reads as empty. Foreign records keep their revision (they count for the expected
   * revision of the next append) and are reported.
   */
  private readRaw(
    stream: string,
    from: ReadRevision,
    direction: typeof FORWARDS | typeof BACKWARDS,
    max: number,
  ): TE.TaskEither<ReadError, StreamRecord[]> {
    return TE.tryCatch(async () => {
      const out: StreamRecord[] = [];
      const read = this.client.readStream(this.namespace + stream, {
        fromRevision: from,
        maxCount: max,
        direction,
        requiresLeader: true,
      });
      const deadline = this.deadline(() => void read.cancel());
      try {
        for await (const resolved of read as AsyncIterable<ResolvedEvent>) {
          const recorded = resolved.event;
          if (recorded === undefined) continue;
          const decoded = decodeRecorded(recorded, this.namespace);
          if (E.isRight(decoded)) {
            out.push({ revision: decoded.right.revision, stored: decoded.right });
          } else {
            this.foreign(recorded.streamId, recorded.revision, recorded.id, recorded.type, decoded.left);
            // A tombstone's revision is 2^63-1: it ends the stream, it does not number it.
            if (recorded.revision <= BigInt(Number.MAX_SAFE_INTEGER)) {
              out.push({ revision: Number(recorded.revision) });
            }
          }
        }
      } catch (error) {
        // ESDB reports a missing stream while iterating, not at the call: the port reads it as empty.
        if (
          error instanceof Error &&
          isCommandError(error) &&
          (error.type === ErrorType.STREAM_NOT_FOUND || error.type === ErrorType.STREAM_DELETED)
        )
          return [];
        throw error;
      } finally {
        deadline.clear();
      }
      // A cancelled read just ends: without this check a stalled read would look like a short stream.
      if (deadline.expired) throw deadlineExceeded(this.deadlineMs);
      return out;
    }, translateReadError);
  }

  /** A timer that runs `onExpiry` after the deadline unless cleared (or restarted) first. */
  private deadline(onExpiry: () => void): { expired: boolean; clear: () => void; restart: () => void } {
    const state = {
      expired: false,
      timer: undefined as NodeJS.Timeout | undefined,
      clear: () => clearTimeout(state.timer),
      restart: () => {
        clearTimeout(state.timer);
        state.timer = setTimeout(() => {
          state.expired = true;
          onExpiry();
        }, this.deadlineMs);
      },
    };
    state.restart();
    return state;
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
    });
    // The deadline bounds the wait for each next record, not the whole read (which may last hours), and is
    // paused while the consumer works on a page.
    const deadline = this.deadline(() => void read.cancel());
    let page: StoredEvent[] = [];
    try {
      for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
        const stored = this.ledgerEvent(resolved);
        if (stored === undefined || 'foreign' in stored || stored.globalPosition <= after) {
          deadline.restart();
          continue;
        }
        if (stored.globalPosition > until) break;
        page.push(stored);
        if (page.length >= size) {
          deadline.clear();
          yield page;
          page = [];
        }
        deadline.restart();
      }
      if (deadline.expired) throw deadlineExceeded(this.deadlineMs);
    } catch (error) {
      throw new Error(translateReadError(error).message, { cause: error });
    } finally {
      deadline.clear();
      await read.cancel();
    }
    if (page.length > 0) yield page;
  }

  subscribe(options: SubscribeOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    const after = options.after ?? 0;
    const size = options.batchSize ?? 1000;
    assertPosition(after, 'after');
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer');
    const id = this.nextSubscriptionId++;
    const statuses = this.statuses;
    const inner = subscribeToLedger(this.client, {
      id,
      after,
      batchSize: size,
      prefixes: this.prefixes.map((p) => this.namespace + p),
      signal: options.signal,
      onCaughtUp: options.onCaughtUp,
      policy: this.options.resubscribe,
      onResubscribe: this.options.onResubscribe,
      toStored: (r) => this.ledgerEvent(r),
      status: (s) => {
        statuses.set(id, s);
        this.options.onSubscriptionStatus?.(s);
      },
    });
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* inner;
        } finally {
          statuses.delete(id);
        }
      },
    };
  }

  /**
   * The status of every subscription of this store still open: what `/ready` and the metrics report
   * (a subscription `retrying` since long ago is an outage; the loop itself never gives up).
   */
  subscriptionStatus(): readonly SubscriptionStatus[] {
    return [...this.statuses.values()];
  }

  /**
   * The last event of the ledger: reads `$all` backwards from the end and stops at the first event of a
   * ledger stream (system events and other streams written after it are skipped on the client). The answer
   * is kept `headCacheMs` (1 s), and concurrent callers share one read: a `/ready` probe does not scan `$all`
   * each time. Appends of this store move it forward meanwhile.
   */
  async headPosition(): Promise<GlobalPosition> {
    const now = Date.now();
    if (this.head === undefined || now - this.head.at > this.headCacheMs) {
      const value = this.lastWhere(() => true).then((e) => e?.globalPosition ?? 0);
      this.head = { at: now, value };
      value.catch(() => {
        if (this.head?.value === value) this.head = undefined;
      });
    }
    return this.head.value;
  }

  private sawHead(position: GlobalPosition | undefined): void {
    if (position === undefined || this.head === undefined) return;
    const known = this.head;
    this.head = { at: known.at, value: known.value.then((p) => Math.max(p, position)) };
  }

  /**
   * ESDB has no index by time: reads `$all` backwards from the end until the first ledger event recorded
   * at or before `time`, so the cost grows with the number of events after `time` (fine for "as of last
   * month" on a ledger; a rebuild as of years ago reads most of the log once). `recordedAt` is the
   * leader's clock at commit: across a leader change with clock skew it may step back a little, and the
   * answer is then the last such event in log order. Used by "as of" rebuilds, never by `/ready`.
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
    });
    const deadline = this.deadline(() => void read.cancel());
    try {
      for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
        deadline.restart();
        const stored = this.ledgerEvent(resolved);
        if (stored !== undefined && !('foreign' in stored) && predicate(stored)) return stored;
      }
      if (deadline.expired) throw deadlineExceeded(this.deadlineMs);
      return undefined;
    } catch (error) {
      throw new Error(translateReadError(error).message, { cause: error });
    } finally {
      deadline.clear();
      await read.cancel();
    }
  }

  /** Whether an ESDB stream (with the namespace) belongs to this ledger. */
  private inLedger(esdbStream: string): boolean {
    return this.prefixes.some((p) => esdbStream.startsWith(this.namespace + p));
  }

  private ledgerEvent(resolved: AllStreamResolvedEvent): Decoded {
    const recorded = resolved.event;
    if (recorded === undefined || !this.inLedger(recorded.streamId)) return undefined;
    const decoded = decodeRecorded(recorded, this.namespace);
    if (E.isRight(decoded)) return decoded.right;
    return {
      foreign: this.foreign(recorded.streamId, recorded.revision, recorded.id, recorded.type, decoded.left),
    };
  }

  private foreign(
    esdbStream: string,
    revision: bigint,
    eventId: string,
    type: string,
    reason: string,
  ): ForeignRecord {
    const record: ForeignRecord = {
      streamName: esdbStream.slice(this.namespace.length),
      revision: revision.toString(),
      eventId,
      type,
      reason,
    };
    this.options.onForeignRecord?.(record);
    return record;
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

function deadlineExceeded(ms: number): Error {
  return new Error(`EventStoreDB did not answer within the ${ms} ms deadline`);
}

function isNotLeaderFailure(error: AppendError | ReadError): boolean {
  return isStoreUnavailable(error) && isNotLeader(error.cause);
}

/** Connects (lazily, at the first call) to EventStoreDB and returns the event store port over it. */
export function openEventStoreDbStore(options: EventStoreDbOptions): EventStoreDbEventStore {
  return new EventStoreDbEventStore(options);
}
