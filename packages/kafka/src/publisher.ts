import { CompressionTypes, Partitioners, type Kafka, type PartitionMetadata, type Producer } from 'kafkajs';
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
  /** Retries of a failed send (at least 1), default `DEFAULT_SEND_RETRIES`. */
  readonly retries?: number;
  /**
   * Idempotent producers sending in parallel, default `DEFAULT_PRODUCERS` (1). Producer i owns the partitions p with
   * p mod producers = i: a partition is only ever written by one producer with one request in flight, so
   * per-partition (per-customer) order holds as with one producer, while the producers' requests overlap.
   */
  readonly producers?: number;
}

/**
 * Parallel producers of the relay (see `KafkaPublisherOptions.producers`). One: on the bench's machine (2 shared
 * cores) kafkajs is bound by its CPU, not by waiting for the broker, and 4 producers were not faster
 * (docs/benchmarks.md, "Against kcat").
 */
export const DEFAULT_PRODUCERS = 1;

/** Largest share of one send for one partition, in bytes of keys and values: below the broker's 1 MiB batch limit. */
const MAX_PARTITION_BATCH_BYTES = 900_000;

/** Retries of a failed send before it is given up (kafkajs backs off exponentially from 300 ms up to 30 s). */
export const DEFAULT_SEND_RETRIES = 8;

/** The producer settings of the relay (and of the benchmark's raw producer, so both are measured alike). */
export function relayProducer(kafka: Kafka, options: { readonly retries?: number } = {}): Producer {
  return kafka.producer({
    // Idempotent (the broker drops a retried batch it already has) with one request in flight: retries can neither
    // duplicate nor reorder messages within a partition. kafkajs then requires acks = all (-1).
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // kafkajs retries an idempotent producer's sends forever unless told otherwise: bound them, so a send that
    // cannot succeed stops the relay (kafkajs warns that limiting retries "may invalidate EoS guarantees": we promise
    // at-least-once, not exactly-once, and a given-up send is never checkpointed).
    retry: {
      retries: Math.max(1, options.retries ?? DEFAULT_SEND_RETRIES),
      initialRetryTime: 300,
      maxRetryTime: 30_000,
    },
    // The default partitioner of kafkajs 2 is murmur2, the same as the Java client's: a customer's partition is the
    // same whichever client produced.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/** One request of a producer: messages grouped by topic, each with its partition. */
export type ProduceRequest = {
  topic: string;
  messages: { key: string; value: string; headers: Record<string, string>; partition: number }[];
}[];

/**
 * Splits one producer's share of a send into requests sent one after the other, each with at most
 * `maxPartitionBytes` (keys, values and 200 bytes of headers per message) per partition (the broker refuses a batch
 * over 1 MiB), keeping the order per partition; a single larger message still goes alone.
 */
export function splitIntoRequests(
  messages: readonly { readonly m: OutgoingMessage; readonly partition: number }[],
  maxPartitionBytes: number = MAX_PARTITION_BATCH_BYTES,
): ProduceRequest[] {
  const requests: ProduceRequest[] = [];
  let byTopic = new Map<string, ProduceRequest[number]>();
  let bytes = new Map<string, number>();
  const flush = () => {
    if (byTopic.size > 0) requests.push([...byTopic.values()]);
    byTopic = new Map();
    bytes = new Map();
  };
  for (const { m, partition } of messages) {
    const size = m.key.length + m.value.length + 200;
    const tp = `${m.topic}\u0000${partition}`;
    const used = bytes.get(tp) ?? 0;
    if (used > 0 && used + size > maxPartitionBytes) flush();
    bytes.set(tp, (bytes.get(tp) ?? 0) + size);
    let entry = byTopic.get(m.topic);
    if (entry === undefined) byTopic.set(m.topic, (entry = { topic: m.topic, messages: [] }));
    entry.messages.push({
      key: m.key,
      value: m.value,
      headers: m.headers,
      partition,
    });
  }
  flush();
  return requests;
}

export async function connectKafkaPublisher(options: KafkaPublisherOptions): Promise<EventPublisher> {
  const count = Math.max(1, Math.floor(options.producers ?? DEFAULT_PRODUCERS));
  const producers = Array.from({ length: count }, () =>
    relayProducer(options.kafka, options.retries === undefined ? {} : { retries: options.retries }),
  );
  await Promise.all(producers.map((p) => p.connect()));
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  // The partition of each message is chosen here (kafkajs's default partitioner, murmur2 like the Java client's),
  // so that it decides which producer sends it. Partition counts are read from the broker once per topic.
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionsOf = new Map<string, PartitionMetadata[]>();
  const loadPartitions = async (topics: readonly string[]) => {
    const missing = topics.filter((t) => !partitionsOf.has(t));
    if (missing.length === 0) return;
    const admin = options.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: missing });
      for (const t of metadata.topics) partitionsOf.set(t.name, t.partitions);
    } finally {
      await admin.disconnect();
    }
  };
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
      await loadPartitions([...new Set(messages.map((m) => m.topic))]);
      const shares = producers.map(() => [] as { m: OutgoingMessage; partition: number }[]);
      for (const m of messages) {
        const partitionMetadata = partitionsOf.get(m.topic);
        if (partitionMetadata === undefined || partitionMetadata.length === 0)
          throw new Error(`topic ${m.topic} has no partitions on the broker`);
        const partition = partitioner({
          topic: m.topic,
          partitionMetadata,
          message: { key: m.key, value: null },
        });
        shares[partition % count]!.push({ m, partition });
      }
      // Every producer's share in parallel, each producer's requests one after the other. All of them are settled
      // before this returns or throws, so a retry from the checkpoint never overlaps a request still in flight.
      const results = await Promise.allSettled(
        shares.map(async (share, i) => {
          for (const topicMessages of splitIntoRequests(share))
            await producers[i]!.sendBatch({
              topicMessages,
              acks: -1,
              timeout: options.ackTimeoutMs ?? 30_000,
              compression,
            });
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
    async close() {
      await Promise.all(producers.map((p) => p.disconnect()));
    },
  };
}
