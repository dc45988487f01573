import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { OutgoingMessage } from './encode.js';
import type { Logger } from './logger.js';

/**
 * Where the relay sends messages. `publish` resolves only once the broker has acknowledged every message
 * (from all in-sync replicas); it rejects when the messages could not be delivered after the client's retries.
 */
export interface EventPublisher {
  /** Creates the topics that are missing (with the configured partitions); leaves existing ones alone. */
  ensureTopics(topics: readonly string[]): Promise<void>;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaPublisherOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  /** Partitions of topics the publisher creates. Per-customer order holds whatever the count. */
  readonly partitions: number;
  /** `retention.ms` of created topics; -1 (default) keeps every event, so a new consumer can start from the beginning. */
  readonly retentionMs?: number;
  /** Broker-side wait for the acknowledgement of all in-sync replicas, default 30 s. */
  readonly ackTimeoutMs?: number;
  readonly compression?: 'none' | 'gzip';
}

/** The producer settings of the relay (and of the benchmark's raw producer, so both are measured alike). */
export function relayProducer(kafka: Kafka): Producer {
  // Idempotent (the broker drops a retried batch it already has) with one request in flight: retries can neither
  // duplicate nor reorder messages within a partition. kafkajs then requires acks = all (-1).
  // The default partitioner of kafkajs 2 is murmur2, the same as the Java client's: a customer's partition is the
  // same whichever client produced.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

function groupByTopic(messages: readonly OutgoingMessage[]) {
  const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (list === undefined) byTopic.set(m.topic, (list = []));
    list.push({ key: m.key, value: m.value, headers: m.headers });
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

export async function connectKafkaPublisher(options: KafkaPublisherOptions): Promise<EventPublisher> {
  const producer = relayProducer(options.kafka);
  await producer.connect();
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    async ensureTopics(topics) {
      const admin = options.kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length === 0) return;
        // Another relay may create them at the same moment: kafkajs answers false when they all exist already.
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: options.partitions,
            configEntries: [
              { name: 'retention.ms', value: String(options.retentionMs ?? -1) },
              { name: 'cleanup.policy', value: 'delete' },
            ],
          })),
        });
        options.logger.info({ topics: missing, partitions: options.partitions }, 'created topics');
      } finally {
        await admin.disconnect();
      }
    },
    async publish(messages) {
      if (messages.length === 0) return;
      await producer.sendBatch({
        topicMessages: groupByTopic(messages),
        acks: -1,
        timeout: options.ackTimeoutMs ?? 30_000,
        compression,
      });
    },
    async close() {
      await producer.disconnect();
    },
  };
}
