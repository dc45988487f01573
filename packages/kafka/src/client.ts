import { Kafka, logLevel, type Admin, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from './logger.js';

export interface KafkaConnection {
  /** Bootstrap addresses, e.g. `['127.0.0.1:9092']`. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Where kafkajs's own warnings and errors go (it is silent below `warn`). */
  readonly logger: Logger;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Retries of every request before it fails (kafkajs backs off exponentially up to `maxRetryTimeMs`). */
  readonly retries?: number;
  readonly maxRetryTimeMs?: number;
}

/** kafkajs writes to the console by default: send its warnings and errors to our logger instead. */
function bridge(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      // Keep the message and its error; kafkajs entries never carry event content.
      const { message, ...extra } = log;
      const entry = { kafkajs: namespace, ...extra };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}

/** The kafkajs client, configured once for this project. The only place `new Kafka(...)` is called. */
export function createKafka(connection: KafkaConnection): Kafka {
  return new Kafka({
    brokers: [...connection.brokers],
    clientId: connection.clientId,
    connectionTimeout: connection.connectionTimeoutMs ?? 3000,
    requestTimeout: connection.requestTimeoutMs ?? 30_000,
    retry: {
      retries: connection.retries ?? 8,
      initialRetryTime: 300,
      maxRetryTime: connection.maxRetryTimeMs ?? 30_000,
    },
    logLevel: logLevel.WARN,
    logCreator: bridge(connection.logger),
  });
}

/** Protocol errors a broker answers while partition leadership settles (a topic just created, a restart). */
const SETTLING = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);

function isSettling(error: unknown): boolean {
  // kafkajs may wrap the protocol error (a retrier's bail): look one level down too.
  const cause = (error as { cause?: unknown } | null)?.cause;
  return [error, cause].some((e) => {
    const type = (e as { type?: unknown } | null)?.type;
    return typeof type === 'string' && SETTLING.has(type);
  });
}

/**
 * `admin.fetchTopicOffsets`, retried while leadership settles. kafkajs gives up at once on "This server is not
 * the leader for that topic-partition" from ListOffsets (its retrier only retries an unknown topic), which a
 * single broker answers for a moment after creating a topic. Each retry first refreshes the topic's metadata.
 */
export async function fetchTopicOffsetsSettled(
  admin: Admin,
  topic: string,
  attempts = 10,
): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (attempt >= attempts || !isSettling(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    }
  }
}
