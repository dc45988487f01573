/**
 * Measurement only: the same prepared sends through `@confluentinc/kafka-javascript` (librdkafka's binding, its
 * KafkaJS-compatible API), loaded from a directory given to the bench (`--confluent <dir>`), because it is not a
 * dependency of this workspace: it does not install from the npm registry alone (docs/kafka.md, "Client").
 * Settings as the relay's: idempotent, acks = all, one request in flight, murmur2 partitioning (its default in the
 * KafkaJS-compatible API), one send awaited at a time.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

export interface ProbeMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface CompatProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: {
    topicMessages: {
      topic: string;
      messages: { key: string; value: string; headers: Record<string, string> }[];
    }[];
  }): Promise<unknown>;
}
interface CompatModule {
  KafkaJS: {
    Kafka: new (config: unknown) => { producer(config: unknown): CompatProducer };
    logLevel: Record<string, number>;
  };
}

/**
 * `window` 1: one send awaited at a time (as the relay sends); more: up to `window` sends outstanding, awaited in
 * order (what a relay checkpointing at the low watermark of acknowledged sends could do; librdkafka keeps each
 * partition's order with an idempotent producer and one request in flight).
 */
export async function timeSendsWithConfluent(
  moduleDir: string,
  brokers: readonly string[],
  sends: readonly (readonly ProbeMessage[])[],
  window = 1,
): Promise<{ seconds: number; version: string }> {
  const require = createRequire(import.meta.url);
  const dir = path.resolve(moduleDir);
  const mod = require(dir) as CompatModule;
  const version = (require(path.join(dir, 'package.json')) as { version: string }).version;
  const kafka = new mod.KafkaJS.Kafka({
    kafkaJS: { brokers: [...brokers], logLevel: mod.KafkaJS.logLevel['ERROR'] },
  });
  const producer = kafka.producer({
    kafkaJS: { idempotent: true, maxInFlightRequests: 1, acks: -1 },
  });
  await producer.connect();
  try {
    const t0 = process.hrtime.bigint();
    const outstanding: Promise<unknown>[] = [];
    for (const messages of sends) {
      const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
      for (const m of messages) {
        let list = byTopic.get(m.topic);
        if (list === undefined) byTopic.set(m.topic, (list = []));
        list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
      }
      outstanding.push(
        producer.sendBatch({
          topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
        }),
      );
      if (outstanding.length >= window) await outstanding.shift();
    }
    for (const p of outstanding) await p;
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, version };
  } finally {
    await producer.disconnect();
  }
}
