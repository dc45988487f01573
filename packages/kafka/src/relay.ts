import * as E from 'fp-ts/lib/Either.js';
import type { CheckpointStore, EventStore, GlobalPosition, StoredEvent } from '@crm-ledger/core';
import { encodeEvent, type OutgoingMessage, type UnpublishableEvent } from './encode.js';
import type { Logger } from './logger.js';
import type { EventPublisher } from './publisher.js';
import { allTopics, type TopicConfig } from './topics.js';

export interface RelayOptions {
  /** Name of the relay's checkpoint in the checkpoint store (one per relay and target cluster). */
  readonly name: string;
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly publisher: EventPublisher;
  readonly topics: TopicConfig;
  readonly logger: Logger;
  /** `follow` (default) keeps waiting for new events until aborted; `catch-up` stops at the end of the log. */
  readonly mode?: 'follow' | 'catch-up';
  /** Events read from the ledger per page, default 2000. */
  readonly batchSize?: number;
  /** Largest send to the broker in bytes of values; a page is split into sends under this, default 900 000. */
  readonly maxSendBytes?: number;
  /** Aborting stops the relay after the send in progress (its checkpoint is saved first). */
  readonly signal?: AbortSignal;
  /** Called after each acknowledged send and saved checkpoint. */
  readonly onProgress?: (progress: RelayProgress) => void;
}

export interface RelayProgress {
  /** The saved checkpoint: every event up to here is acknowledged by the broker. */
  readonly position: GlobalPosition;
  /** Events published by this run. */
  readonly published: number;
}

export type RelayStopped = RelayProgress;

export interface PublishFailed {
  readonly type: 'PublishFailed';
  /** The events from `fromPosition` to `toPosition` (inclusive) may or may not be on Kafka; the checkpoint is before them. */
  readonly fromPosition: GlobalPosition;
  readonly toPosition: GlobalPosition;
  readonly message: string;
  readonly cause: unknown;
}

export interface TopicSetupFailed {
  readonly type: 'TopicSetupFailed';
  readonly message: string;
  readonly cause: unknown;
}

export interface CheckpointFailed {
  readonly type: 'CheckpointFailed';
  readonly position: GlobalPosition;
  readonly message: string;
  readonly cause: unknown;
}

export interface LedgerReadFailed {
  readonly type: 'LedgerReadFailed';
  readonly message: string;
  readonly cause: unknown;
}

/** Why the relay stopped without being asked to. It never skips an event: the service exits non-zero. */
export type RelayFailure =
  UnpublishableEvent | PublishFailed | TopicSetupFailed | CheckpointFailed | LedgerReadFailed;

const messageOf = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause));

/** Splits a page into sends of at most `maxBytes` of values (at least one message each), keeping order. */
export function chunkBySize(messages: readonly OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value.length + m.key.length + 200;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Encodes a page up to its first unpublishable event: the messages before it, and the failure if there is one. */
function encodePage(
  page: readonly StoredEvent[],
  topics: TopicConfig,
): { messages: OutgoingMessage[]; failure: UnpublishableEvent | undefined } {
  const messages: OutgoingMessage[] = [];
  for (const stored of page) {
    const encoded = encodeEvent(stored, topics);
    if (E.isLeft(encoded)) return { messages, failure: encoded.left };
    messages.push(encoded.right);
  }
  return { messages, failure: undefined };
}

/**
 * The outbox relay: reads the ledger's global log from its checkpoint and publishes every event to Kafka, in order.
 *
 * Delivery is at-least-once: a send is awaited until the broker acknowledged it (acks = all), and only then is the
 * checkpoint saved. A crash between the two republishes those events on restart (consumers dedupe by event id);
 * no crash can lose one. Awaiting each send is the back-pressure: the relay reads no further than the broker takes.
 * An event that cannot be published stops the relay with a `Left`, never skipped.
 */
export async function runRelay(options: RelayOptions): Promise<E.Either<RelayFailure, RelayStopped>> {
  const { logger, signal } = options;
  const maxSendBytes = options.maxSendBytes ?? 900_000;
  let position: GlobalPosition;
  try {
    position = await options.checkpoints.load(options.name);
  } catch (cause) {
    return E.left({ type: 'CheckpointFailed', position: 0, message: messageOf(cause), cause });
  }
  try {
    await options.publisher.ensureTopics(allTopics(options.topics));
  } catch (cause) {
    return E.left({ type: 'TopicSetupFailed', message: messageOf(cause), cause });
  }
  logger.info({ checkpoint: options.name, position, mode: options.mode ?? 'follow' }, 'relay starting');

  let published = 0;
  const readOptions = { after: position, batchSize: options.batchSize ?? 2000 };
  // A failed send stops the reading at once (a follower waiting for new events included).
  const sendFailed = new AbortController();
  const readSignal = signal === undefined ? sendFailed.signal : AbortSignal.any([signal, sendFailed.signal]);
  const pages =
    options.mode === 'catch-up'
      ? options.store.readAll(readOptions)
      : options.store.subscribe({ ...readOptions, signal: readSignal });
  // Pipelined sends: while one send waits for the broker's acknowledgement, the relay reads and encodes what comes
  // next. Sends themselves stay one at a time and in order (the next starts only once the previous one is
  // acknowledged and its checkpoint saved), so per-customer order and "checkpoint only after the ack" hold as before.
  let inFlight: Promise<RelayFailure | undefined> | undefined;
  const send = async (chunk: readonly OutgoingMessage[]): Promise<RelayFailure | undefined> => {
    const first = chunk[0]!.globalPosition;
    const last = chunk[chunk.length - 1]!.globalPosition;
    try {
      await options.publisher.publish(chunk);
    } catch (cause) {
      sendFailed.abort();
      return {
        type: 'PublishFailed',
        fromPosition: first,
        toPosition: last,
        message: messageOf(cause),
        cause,
      };
    }
    try {
      await options.checkpoints.save(options.name, last);
    } catch (cause) {
      sendFailed.abort();
      return { type: 'CheckpointFailed', position: last, message: messageOf(cause), cause };
    }
    position = last;
    published += chunk.length;
    options.onProgress?.({ position, published });
    return undefined;
  };
  const settle = async (): Promise<RelayFailure | undefined> => {
    const previous = inFlight;
    inFlight = undefined;
    return previous === undefined ? undefined : previous;
  };
  try {
    pages: for await (const page of pages) {
      const { messages, failure } = encodePage(page, options.topics);
      for (const chunk of chunkBySize(messages, maxSendBytes)) {
        const failed = await settle();
        if (failed !== undefined) return E.left(failed);
        // Stop between sends: everything acknowledged so far is checkpointed, the rest is published next run.
        if (signal?.aborted === true) break pages;
        inFlight = send(chunk);
      }
      // Everything before the unpublishable event is on Kafka and checkpointed: stop at it, never skip it.
      if (failure !== undefined) {
        const failed = await settle();
        return E.left(failed ?? failure);
      }
    }
    const failed = await settle();
    if (failed !== undefined) return E.left(failed);
  } catch (cause) {
    const failed = await settle();
    return E.left(failed ?? { type: 'LedgerReadFailed', message: messageOf(cause), cause });
  }
  logger.info({ position, published }, 'relay stopped');
  return E.right({ position, published });
}
