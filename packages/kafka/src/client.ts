import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
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
