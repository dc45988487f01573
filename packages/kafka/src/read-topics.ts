import { emptyRecord } from '@crm-ledger/events';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { fetchTopicOffsetsSettled } from './client.js';

/** A message as Kafka holds it, undecoded. */
export interface RawRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Reads every message of the topics, from the beginning to the end they have when called, with a throw-away consumer
 * group that commits nothing and is deleted afterwards. For audits, tests and debugging: it does not decode,
 * validate or dedupe anything (compare `startEventConsumer`).
 */
export async function readTopicsToEnd(
  kafka: Kafka,
  topics: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): Promise<RawRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `crm-ledger-reader-${randomUUID()}`;
  try {
    const ends = new Map<string, bigint>();
    for (const topic of topics) {
      for (const p of await fetchTopicOffsetsSettled(admin, topic)) {
        if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}:${p.partition}`, BigInt(p.high));
      }
    }
    if (ends.size === 0) return [];
    const records: RawRecord[] = [];
    const consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 << 20,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`readTopicsToEnd: not at the end after ${options.timeoutMs ?? 60_000} ms`)),
          options.timeoutMs ?? 60_000,
        );
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const key = `${batch.topic}:${batch.partition}`;
              const end = ends.get(key);
              for (const m of batch.messages) {
                if (end === undefined || BigInt(m.offset) >= end) continue;
                const headers = emptyRecord<string>();
                for (const [name, value] of Object.entries(m.headers ?? emptyRecord<never>())) {
                  const first = Array.isArray(value) ? value[0] : value;
                  if (first !== undefined) headers[name] = first.toString();
                }
                records.push({
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key?.toString() ?? null,
                  value: m.value?.toString() ?? null,
                  headers,
                });
                if (BigInt(m.offset) + 1n >= end) ends.delete(key);
              }
              if (ends.size === 0) {
                clearTimeout(timer);
                resolve();
              }
              await Promise.resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return records;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
