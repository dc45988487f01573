import * as E from 'fp-ts/lib/Either.js';
import {
  GENESIS_LINK,
  canonicalJson,
  chainLink,
  systemClock,
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
import { validateEvent, type RawEnvelope } from '@crm-ledger/events';

interface Known {
  readonly streamName: string;
  readonly content: string;
}

const MAX_STREAM_NAME = 200;

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
    if (this.closed) return E.left({ type: 'StoreUnavailable', message: 'the store is closed' });
    const nameProblem = streamNameProblem(streamName);
    if (nameProblem !== undefined) return E.left({ type: 'InvalidAppend', message: nameProblem });
    const batch: unknown = events;
    if (!Array.isArray(batch) || events.length === 0) {
      return E.left({ type: 'InvalidAppend', message: 'a batch holds at least one event' });
    }
    const expected = options.expectedRevision ?? 'any';
    if (
      typeof expected === 'number'
        ? !Number.isSafeInteger(expected) || expected < 0
        : expected !== 'any' && expected !== 'no_stream' && expected !== 'stream_exists'
    ) {
      return E.left({ type: 'InvalidAppend', message: `bad expected revision ${String(expected)}` });
    }
    const contents: string[] = [];
    const seen = new Set<string>();
    for (let index = 0; index < events.length; index++) {
      const valid = validateEvent(events[index]);
      if (E.isLeft(valid)) {
        return E.left({ type: 'InvalidAppend', message: 'invalid event', index, issues: valid.left.issues });
      }
      let content: string;
      try {
        content = canonicalJson(events[index]);
      } catch (e) {
        return E.left({ type: 'InvalidAppend', message: `not JSON: ${String(e)}`, index });
      }
      const id = valid.right.eventId;
      if (seen.has(id))
        return E.left({ type: 'InvalidAppend', message: `event ${id} twice in the batch`, index });
      seen.add(id);
      contents.push(content);
    }
    let stored = 0;
    for (let i = 0; i < events.length; i++) {
      const known = this.ids.get(events[i]!.eventId);
      if (known === undefined) continue;
      stored++;
      const eventId = events[i]!.eventId;
      if (known.streamName !== streamName) {
        return E.left({ type: 'IdempotencyConflict', eventId, streamName, reason: 'different_stream' });
      }
      if (known.content !== contents[i]) {
        return E.left({ type: 'IdempotencyConflict', eventId, streamName, reason: 'different_content' });
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
      return E.left({ type: 'IdempotencyConflict', eventId, streamName, reason: 'partial_batch' });
    }
    const actual = stream.length === 0 ? ('no_stream' as const) : stream.length - 1;
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      expected === actual;
    if (!ok) return E.left({ type: 'WrongExpectedRevision', streamName, expected, actual });
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
    const nameProblem = streamNameProblem(streamName);
    if (nameProblem !== undefined) return E.left({ type: 'InvalidAppend', message: nameProblem });
    const from = options.fromRevision ?? 0;
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(max) || max < 0) {
      return E.left({
        type: 'InvalidAppend',
        message: 'fromRevision and maxCount are non-negative integers',
      });
    }
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

function streamNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a stream name is a non-empty string';
  if (name.length > MAX_STREAM_NAME) return `a stream name has at most ${MAX_STREAM_NAME} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'a stream name has no control characters';
  return undefined;
}
