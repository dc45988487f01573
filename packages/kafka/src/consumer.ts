import * as E from 'fp-ts/lib/Either.js';
import type { EventOf, EventType, LedgerEvent } from '@crm-ledger/events';
import type { Kafka } from 'kafkajs';
import { fetchTopicOffsetsSettled } from './client.js';
import { decodeMessage, type IncomingMessage, type InvalidMessage } from './decode.js';
import { memoryDeduplicator, type Deduplicator } from './dedupe.js';
import type { Logger } from './logger.js';

/** Where a message came from, and what the relay said about it. */
export interface EventContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly globalPosition: number | undefined;
  /** Personal-data fields removed by the relay (absent from `event.data`). */
  readonly redacted: readonly string[];
}

/** One handler per event type the consumer cares about; the event is validated and upcast to its newest version. */
export type EventHandlers = {
  readonly [T in EventType]?: (event: EventOf<T>, context: EventContext) => void | Promise<void>;
};

export type MessageOutcome = 'handled' | 'unhandled' | 'duplicate' | 'invalid';

export interface MessageHandlerOptions {
  readonly handlers: EventHandlers;
  readonly dedupe?: Deduplicator;
  /** Called for a message that is not a valid event; default: nothing (the outcome says `invalid`). */
  readonly onInvalid?: (error: InvalidMessage, message: IncomingMessage) => void | Promise<void>;
}

type AnyHandler = (event: LedgerEvent, context: EventContext) => void | Promise<void>;

/**
 * Decodes, validates, dedupes and dispatches one message: the whole consumer logic, free of kafkajs so it is
 * testable alone. An event is remembered as seen only after its handler succeeded.
 */
export function createMessageHandler(
  options: MessageHandlerOptions,
): (message: IncomingMessage) => Promise<MessageOutcome> {
  const dedupe = options.dedupe ?? memoryDeduplicator();
  return async (message) => {
    const decoded = decodeMessage(message);
    if (E.isLeft(decoded)) {
      await options.onInvalid?.(decoded.left, message);
      return 'invalid';
    }
    const { event, globalPosition, redacted } = decoded.right;
    if (dedupe.has(event.eventId)) return 'duplicate';
    // The handler map is indexed by the event's own type, so the handler takes exactly this event.
    const handler = options.handlers[event.type] as AnyHandler | undefined;
    if (handler !== undefined) {
      await handler(event, {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        globalPosition,
        redacted,
      });
    }
    dedupe.add(event.eventId);
    return handler === undefined ? 'unhandled' : 'handled';
  };
}

export interface ConsumerStats {
  handled: number;
  unhandled: number;
  duplicate: number;
  invalid: number;
}

export interface EventConsumerOptions extends MessageHandlerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly logger: Logger;
  /** Where a new consumer group starts: the beginning (default) or only new messages. */
  readonly fromBeginning?: boolean;
  /**
   * Commit offsets (default true). A consumer whose view lives in memory passes false: it commits nothing and
   * rebuilds from the beginning of the topics at each start.
   */
  readonly commitOffsets?: boolean;
}

export interface RunningConsumer {
  readonly stats: Readonly<ConsumerStats>;
  /** Resolves once every assigned partition has been read up to the end it had when this was called. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Subscribes to the topics and feeds each message through `createMessageHandler`, partition by partition in offset
 * order (so per customer in ledger order). With committed offsets, a message's offset is committed only after its
 * handler returned: at-least-once, hence the dedupe.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<RunningConsumer> {
  const { kafka, logger } = options;
  const stats: ConsumerStats = { handled: 0, unhandled: 0, duplicate: 0, invalid: 0 };
  const handle = createMessageHandler({
    handlers: options.handlers,
    ...(options.dedupe === undefined ? {} : { dedupe: options.dedupe }),
    onInvalid: async (error, message) => {
      // Never the value: it may hold data we must not log. Position and validation issues only.
      logger.warn(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          eventId: error.eventId,
          reason: error.reason,
          issues: error.issues.map((i) => ({ path: i.path, code: i.code })),
        },
        'skipped an invalid message',
      );
      await options.onInvalid?.(error, message);
    },
  });
  const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  const consumed = new Map<string, bigint>();
  await consumer.connect();
  await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: options.commitOffsets ?? true,
    eachMessage: async ({ topic, partition, message }) => {
      const outcome = await handle({
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        ...(message.headers === undefined ? {} : { headers: message.headers }),
      });
      stats[outcome]++;
      consumed.set(`${topic}:${partition}`, BigInt(message.offset) + 1n);
    },
  });

  const admin = kafka.admin();
  await admin.connect();
  return {
    stats,
    async caughtUp() {
      const ends: { key: string; end: bigint }[] = [];
      for (const topic of options.topics) {
        for (const p of await fetchTopicOffsetsSettled(admin, topic)) {
          ends.push({ key: `${topic}:${p.partition}`, end: BigInt(p.high) });
        }
      }
      for (;;) {
        if (ends.every(({ key, end }) => end === 0n || (consumed.get(key) ?? 0n) >= end)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await admin.disconnect();
      await consumer.disconnect();
    },
  };
}
