import { Partitioners, type Consumer, type Kafka } from 'kafkajs';
import { fetchTopicOffsetsSettled } from './client.js';
import { header, type IncomingMessage } from './decode.js';
import { HEADERS } from './headers.js';
import type { Logger } from './logger.js';

/**
 * A consumer-group member whose effects live in a database that also stores the offsets they cover (the Kafka
 * mode of the projector, docs/deploy.md). The group only decides who owns which partition; where to read from
 * is always the owner's own store: on every assignment and after every refused write the member asks
 * `loadOffset` and seeks there; it never commits offsets to the broker, and never reads the broker's.
 */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** The messages from `fromOffset` on (the ones before it the store already covers are dropped), in order. */
  readonly messages: readonly IncomingMessage[];
  /** The offset the store said this partition is at: the first message's offset. */
  readonly fromOffset: number;
  /** The offset after the last message. */
  readonly toOffset: number;
  /** The partition's end (high watermark) when the batch was fetched: `highWatermark - toOffset` is the lag left. */
  readonly highWatermark: number;
  /** False once the member lost the partition or is stopping: a handler that sees false writes nothing. */
  readonly stillOwned: () => boolean;
}

export interface PartitionOwnerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly logger: Logger;
  /** The next offset to apply of a partition, from the owner's store (0 when it never applied any). */
  readonly loadOffset: (topic: string, partition: number) => Promise<number>;
  /**
   * Applies a batch and stores its offsets with its effects, atomically, or throws. Returns false when the
   * store refused it because it holds another offset (someone else applied the partition meanwhile): the
   * member then reloads the offset and seeks there. A throw stops the member (`done` rejects).
   */
  readonly handleBatch: (batch: PartitionBatch) => Promise<boolean>;
  /** Told the partitions this member owns after each rebalance (an empty list: none). */
  readonly onAssigned?: (partitions: readonly { topic: string; partition: number }[]) => void;
  /** Partitions processed at once (default 3). */
  readonly concurrency?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /**
   * Bytes fetched per partition at most per request (default 8 MiB). One fetched batch of a partition is one
   * transaction of the handler, so this sets the batch size: kafkajs's default (1 MiB, ~1,500 relay messages)
   * made the per-transaction and per-customer fixed work dominate (issue 17).
   */
  readonly fetchMaxBytesPerPartition?: number;
}

/** The default of {@link PartitionOwnerOptions.fetchMaxBytesPerPartition}. */
export const DEFAULT_FETCH_MAX_BYTES_PER_PARTITION = 8 * 1024 * 1024;

export interface RunningPartitionOwner {
  /** Rejects when the member stopped on an error; resolves after `stop`. */
  readonly done: Promise<void>;
  /** Leaves the group: an in-flight batch is finished (and written) or abandoned unwritten, never halved. */
  stop(): Promise<void>;
}

/**
 * The partition of a key among `partitions`, as the relay's producer chose it (kafkajs 2's default partitioner:
 * murmur2 of the key, as the Java client's), so a member knows which customers its partitions hold.
 */
export function partitionOfKey(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: '',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}

/** Partitions of a topic (from the broker's metadata). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await fetchTopicOffsetsSettled(admin, topic)).length;
  } finally {
    await admin.disconnect();
  }
}

/** Each partition's end offset (high watermark), for the lag: end minus the stored next offset. */
export async function partitionEnds(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await fetchTopicOffsetsSettled(admin, topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** The global position and recorded time the relay put in the headers (undefined when a header is missing). */
export function ledgerPositionOf(
  message: Pick<IncomingMessage, 'headers'>,
): { globalPosition: number; recordedAt: string } | undefined {
  const position = header(message, HEADERS.globalPosition);
  const recordedAt = header(message, HEADERS.recordedAt);
  if (position === undefined || recordedAt === undefined || !/^\d+$/.test(position)) return undefined;
  return { globalPosition: Number(position), recordedAt };
}

export async function startPartitionOwner(options: PartitionOwnerOptions): Promise<RunningPartitionOwner> {
  const { kafka, logger } = options;
  const perPartition = options.fetchMaxBytesPerPartition ?? DEFAULT_FETCH_MAX_BYTES_PER_PARTITION;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    // Never the broker's committed offsets: this member never commits, and seeks to the store's offsets.
    readUncommitted: false,
    maxBytesPerPartition: perPartition,
    // A fetch answers for every owned partition: room for several full ones (the broker caps it at its
    // fetch.max.bytes, 55 MiB by default, and always returns at least one record batch).
    maxBytes: Math.max(perPartition, 50 * 1024 * 1024),
  });
  /** Generation of the assignment: a batch fetched under an older one is stale. */
  let generation = 0;
  let stopping = false;
  /** The offset each owned partition is at according to the store, once loaded in this generation. */
  const expected = new Map<string, number>();
  const key = (topic: string, partition: number): string => `${topic}:${partition}`;

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    generation++;
    expected.clear();
    const assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    logger.info(
      { groupId: options.groupId, partitions: assigned.map((p) => `${p.topic}[${p.partition}]`) },
      'kafka projector: partitions assigned',
    );
    options.onAssigned?.(assigned);
  });

  let fail: (error: unknown) => void = () => undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    finish = resolve;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) fail(e.payload.error);
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.concurrency ?? 3,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const { topic, partition } = batch;
      const mine = generation;
      const stillOwned = (): boolean =>
        !stopping && mine === generation && payload.isRunning() && !payload.isStale();
      let from = expected.get(key(topic, partition));
      if (from === undefined) {
        from = await options.loadOffset(topic, partition);
        if (mine !== generation) return;
        expected.set(key(topic, partition), from);
      }
      const start = from;
      const messages = batch.messages.filter((m) => Number(m.offset) >= start);
      const first = messages[0];
      if (first === undefined || Number(first.offset) !== start) {
        // The fetch started elsewhere (the group's default position after an assignment, or before a refused
        // write): drop this batch and read on from the store's offset.
        if (first !== undefined)
          logger.warn(
            { topic, partition, expected: start, first: first.offset },
            'kafka projector: the partition does not hold the stored offset any more (deleted by retention?): seeking to it again',
          );
        if (stillOwned()) consumer.seek({ topic, partition, offset: String(start) });
        return;
      }
      if (!stillOwned()) return;
      const last = messages[messages.length - 1]!;
      const to = Number(last.offset) + 1;
      const applied = await options.handleBatch({
        topic,
        partition,
        messages: messages.map((m) => ({
          topic,
          partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          ...(m.headers === undefined ? {} : { headers: m.headers }),
        })),
        fromOffset: start,
        toOffset: to,
        highWatermark: Number(batch.highWatermark),
        stillOwned,
      });
      if (mine !== generation) return;
      if (applied) {
        expected.set(key(topic, partition), to);
        // The fetch position only (this member never commits offsets to the broker).
        payload.resolveOffset(last.offset);
        return;
      }
      expected.delete(key(topic, partition));
      const again = await options.loadOffset(topic, partition);
      if (mine !== generation) return;
      expected.set(key(topic, partition), again);
      if (stillOwned()) consumer.seek({ topic, partition, offset: String(again) });
    },
  });
  return {
    done,
    async stop() {
      stopping = true;
      await consumer.disconnect();
      finish();
    },
  };
}
