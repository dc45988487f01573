import * as E from 'fp-ts/lib/Either.js';
import {
  GENESIS_LINK,
  STORE_CLOSED,
  chainLink,
  checkExpectedRevision,
  idempotencyConflict,
  storeUnavailable,
  systemClock,
  validateAppend,
  validateReadStream,
  type AppendError,
  type AppendOptions,
  type AppendResult,
  type Clock,
  type EventStore,
  type GlobalPosition,
  type ReadAllOptions,
  type ReadError,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeOptions,
} from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';

interface Known {
  readonly streamName: string;
  readonly content: string;
}

/**
 * A reference `EventStore` in memory: the simplest implementation of the port's contract. It exists to keep
 * the conformance suite honest (the suite runs against it too) and for fast unit tests of consumers.
 * Not durable, single process.
 */
export class InMemoryEventStore implements EventStore {
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly ids = new Map<string, Known>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly clock: Clock = systemClock) {}

  async append(
    streamName: string,
    events: readonly RawEnvelope[],
    options: AppendOptions = {},
  ): Promise<E.Either<AppendError, AppendResult>> {
    await Promise.resolve();
    if (this.closed) return E.left(storeUnavailable(STORE_CLOSED));
    const valid = validateAppend(streamName, events, options.expectedRevision ?? 'any');
    if (E.isLeft(valid)) return valid;
    const { expected, bodies: contents } = valid.right;
    let stored = 0;
    for (let i = 0; i < events.length; i++) {
      const known = this.ids.get(events[i]!.eventId);
      if (known === undefined) continue;
      stored++;
      const eventId = events[i]!.eventId;
      if (known.streamName !== streamName) {
        return E.left(idempotencyConflict(eventId, streamName, 'different_stream'));
      }
      if (known.content !== contents[i]) {
        return E.left(idempotencyConflict(eventId, streamName, 'different_content'));
      }
    }
    const stream = this.streams.get(streamName) ?? [];
    if (stored === events.length) {
      const byId = new Map(stream.map((s) => [s.event.eventId, s]));
      const positions = events.map((e) => byId.get(e.eventId)!.globalPosition);
      const last = byId.get(events[events.length - 1]!.eventId)!;
      return E.right({ streamName, nextExpectedRevision: last.revision, positions, duplicate: true });
    }
    if (stored > 0) {
      const eventId = events.find((e) => this.ids.has(e.eventId))!.eventId;
      return E.left(idempotencyConflict(eventId, streamName, 'partial_batch'));
    }
    const expectation = checkExpectedRevision(
      streamName,
      expected,
      stream.length === 0 ? 'no_stream' : stream.length - 1,
    );
    if (E.isLeft(expectation)) return expectation;
    const recordedAt = this.clock.now();
    const positions: GlobalPosition[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = JSON.parse(contents[i]!) as RawEnvelope;
      const prevLink = stream[stream.length - 1]?.hash ?? GENESIS_LINK;
      const s: StoredEvent = {
        globalPosition: this.log.length + 1,
        streamName,
        revision: stream.length,
        recordedAt,
        event,
        hash: chainLink(prevLink, streamName, stream.length, contents[i]!),
      };
      this.log.push(s);
      stream.push(s);
      this.ids.set(event.eventId, { streamName, content: contents[i]! });
      positions.push(s.globalPosition);
    }
    this.streams.set(streamName, stream);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return E.right({ streamName, nextExpectedRevision: stream.length - 1, positions, duplicate: false });
  }

  async readStream(
    streamName: string,
    options: ReadStreamOptions = {},
  ): Promise<E.Either<ReadError, readonly StoredEvent[]>> {
    await Promise.resolve();
    if (this.closed) return E.left(storeUnavailable(STORE_CLOSED));
    const read = validateReadStream(streamName, options);
    if (E.isLeft(read)) return read;
    const { from, max } = read.right;
    return E.right((this.streams.get(streamName) ?? []).slice(from, from + max));
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    let after = options.after ?? 0;
    const until = options.until ?? Number.MAX_SAFE_INTEGER;
    const size = options.batchSize ?? 1000;
    for (;;) {
      await Promise.resolve();
      const page = this.log.slice(after, Math.min(after + size, until));
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1]!.globalPosition;
    }
  }

  async *subscribe(options: SubscribeOptions = {}): AsyncIterable<readonly StoredEvent[]> {
    let after = options.after ?? 0;
    const size = options.batchSize ?? 1000;
    const signal = options.signal;
    while (signal?.aborted !== true && !this.closed) {
      const page = this.log.slice(after, after + size);
      if (page.length > 0) {
        yield page;
        after = page[page.length - 1]!.globalPosition;
        continue;
      }
      options.onCaughtUp?.(after);
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  async headPosition(): Promise<GlobalPosition> {
    await Promise.resolve();
    return this.log.length;
  }

  async positionAt(time: string): Promise<GlobalPosition> {
    await Promise.resolve();
    const t = Date.parse(time);
    let position = 0;
    for (const s of this.log) {
      if (Date.parse(s.recordedAt) <= t) position = s.globalPosition;
      else break;
    }
    return position;
  }

  async close(): Promise<void> {
    await Promise.resolve();
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
