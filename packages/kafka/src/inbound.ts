import * as E from 'fp-ts/lib/Either.js';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { AppendError, EventStore } from '@crm-ledger/core';
import { customerStream, validateEvent, type ValidationIssue } from '@crm-ledger/events';
import type { Logger } from './logger.js';
import { relayProducer } from './publisher.js';

/** Headers the inbound consumer adds to a dead-lettered message (the original key, value and headers are kept). */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq_reason',
  /** JSON array of `{ path, code, message }`: why the message was refused. */
  issues: 'dlq_issues',
  sourceTopic: 'dlq_source_topic',
  sourcePartition: 'dlq_source_partition',
  sourceOffset: 'dlq_source_offset',
} as const;

export type InboundOutcome = 'appended' | 'duplicate' | 'dead-lettered';

/** Why a message goes to the dead-letter topic. */
export interface Refused {
  readonly reason:
    'not_json' | 'invalid_event' | 'idempotency_conflict' | 'invalid_append' | 'customer_erased';
  readonly issues: readonly ValidationIssue[];
}

/**
 * Decides what to do with one inbound message: validate it as an event at its declared version (as the ingest API
 * does; never upcast: the ledger keeps what was reported) and append it to its customer's stream. Appends are
 * idempotent by event id, so a redelivered message is a harmless duplicate. `Left` = dead-letter it; a thrown error =
 * the store is unavailable, retry later.
 */
export async function appendInbound(
  store: EventStore,
  value: Buffer | null,
): Promise<E.Either<Refused, 'appended' | 'duplicate'>> {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString('utf8') ?? '');
  } catch (error) {
    return E.left({
      reason: 'not_json',
      issues: [{ path: [], code: 'not_json', message: (error as Error).message }],
    });
  }
  const event = validateEvent(json);
  if (E.isLeft(event)) return E.left({ reason: 'invalid_event', issues: event.left.issues });
  const result = await store.append(customerStream(event.right.customerId), [event.right]);
  if (E.isRight(result)) return E.right(result.right.duplicate ? 'duplicate' : 'appended');
  return refusedByStore(result.left);
}

function refusedByStore(error: AppendError): E.Either<Refused, never> {
  switch (error.type) {
    case 'IdempotencyConflict':
      return E.left({
        reason: 'idempotency_conflict',
        issues: [
          {
            path: ['eventId'],
            code: `idempotency_conflict:${error.reason}`,
            message: `event ${error.eventId} is already in the ledger with ${error.reason.replaceAll('_', ' ')}`,
          },
        ],
      });
    case 'InvalidAppend':
      return E.left({
        reason: 'invalid_append',
        issues: error.issues ?? [{ path: [], code: 'invalid_append', message: error.message }],
      });
    case 'CustomerGone':
      return E.left({
        reason: 'customer_erased',
        issues: [
          {
            path: ['customerId'],
            code: 'customer_erased',
            message: `customer ${error.customerId} was erased: the ledger takes no new events about them`,
          },
        ],
      });
    case 'WrongExpectedRevision':
    case 'StoreUnavailable':
      // Neither is the message's fault (no expected revision is given): let kafkajs retry it.
      throw new Error(`the ledger refused an inbound append: ${error.type}`);
  }
}

export interface InboundConsumerOptions {
  readonly kafka: Kafka;
  readonly store: EventStore;
  readonly groupId: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly logger: Logger;
}

export interface RunningInbound {
  readonly stats: Readonly<Record<InboundOutcome, number>>;
  stop(): Promise<void>;
}

/**
 * Appends interactions that other systems publish on an inbound topic into the ledger, idempotently, and sends each
 * invalid message to a dead-letter topic with the validation issues in headers. A message's offset is committed only
 * after it was appended or dead-lettered (acks = all): at least once, made harmless by the idempotent append.
 * The dead-letter topic holds the original message: it is as sensitive as the inbound topic.
 */
export async function startInboundConsumer(options: InboundConsumerOptions): Promise<RunningInbound> {
  const { kafka, logger } = options;
  const stats: Record<InboundOutcome, number> = { appended: 0, duplicate: 0, 'dead-lettered': 0 };
  const producer = relayProducer(kafka);
  await producer.connect();
  const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });

  const deadLetter = async (partition: number, message: KafkaMessage, refused: Refused) => {
    await producer.send({
      topic: options.deadLetterTopic,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            [DEAD_LETTER_HEADERS.reason]: refused.reason,
            [DEAD_LETTER_HEADERS.issues]: JSON.stringify(refused.issues),
            [DEAD_LETTER_HEADERS.sourceTopic]: options.topic,
            [DEAD_LETTER_HEADERS.sourcePartition]: String(partition),
            [DEAD_LETTER_HEADERS.sourceOffset]: message.offset,
          },
        },
      ],
    });
    // Positions and issue codes only: the message may hold personal data.
    logger.warn(
      {
        partition,
        offset: message.offset,
        reason: refused.reason,
        issues: refused.issues.map((i) => i.code),
      },
      'inbound message dead-lettered',
    );
  };

  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const result = await appendInbound(options.store, message.value);
      if (E.isRight(result)) {
        stats[result.right]++;
        return;
      }
      await deadLetter(partition, message, result.left);
      stats['dead-lettered']++;
    },
  });
  return {
    stats,
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
