/**
 * Relay benchmark: events/s from the ledger (SQLite) to acknowledged on a local Kafka broker, through the relay
 * (`runRelay`: read pages, encode with CloudEvents headers and PII removal, send, await acks = all, save the
 * checkpoint), beside kafkajs's raw producer rate measured in the same run on the same broker: the same producer
 * settings (`relayProducer`: idempotent, one request in flight, acks = all), the same messages already encoded and
 * grouped, sent in the same sends, nothing else timed. Target: relay >= 0.7x raw.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { customerStream } from '@crm-ledger/events';
import {
  allTopics,
  chunkBySize,
  connectKafkaPublisher,
  createKafka,
  encodeEvent,
  relayProducer,
  runRelay,
  silentLogger,
  type OutgoingMessage,
  type TopicConfig,
} from '@crm-ledger/kafka';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { generateHistory } from '@crm-ledger/synthetic';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const HELP = `Usage: node bench/dist/relay.js [options]

Relays a synthetic ledger to a local Kafka broker and measures events/s from ledger to acknowledged, beside the raw
kafkajs producer rate (same producer settings, same messages pre-encoded, same sends) on the same broker.

Options:
  --events <n>       events in the ledger (default 1000000)
  --customers <n>    customers (default 10000)
  --seed <n>         generator seed (default 42)
  --raw-events <n>   messages sent by each raw producer pass (default 200000)
  --partitions <n>   partitions per topic (default 6)
  --batch-size <n>   relay page size (default 5000)
  --ledger <file>    reuse (or build and keep) the ledger in this SQLite file
  --brokers <list>   use this broker instead of starting one from infra/kafka
  --out <file>       write the results as JSON there
  -h, --help         this help
`;

interface KafkaLauncher {
  startKafka(options: { heap?: string; log?: (line: string) => void }): Promise<{
    brokers: string;
    stop: () => Promise<void>;
  }>;
}

const now = () => process.hrtime.bigint();
const seconds = (ns: bigint) => Number(ns) / 1e9;
const log = (line: string) => console.error(line);

async function buildLedger(file: string, seed: number, customers: number, events: number): Promise<number> {
  const store = openSqliteEventStore({ file, synchronous: 'normal', validation: 'envelope' });
  let head = await store.headPosition();
  if (head === 0) {
    log(`building a ledger of ~${events} events in ${file} ...`);
    const t0 = now();
    let pending: Promise<unknown>[] = [];
    for (const h of generateHistory({ seed, customers, targetEvents: events })) {
      pending.push(
        store.append(customerStream(h.customerId), h.events).then((r) => {
          if (E.isLeft(r)) throw new Error(`append failed: ${JSON.stringify(r.left)}`);
        }),
      );
      if (pending.length >= 64) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    head = await store.headPosition();
    log(`ledger built: ${head} events in ${seconds(now() - t0).toFixed(1)} s (not timed)`);
  }
  await store.close();
  return head;
}

function groupByTopic(messages: readonly OutgoingMessage[]) {
  const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
  for (const m of messages) {
    let list = byTopic.get(m.topic);
    if (list === undefined) byTopic.set(m.topic, (list = []));
    list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      customers: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '42' },
      'raw-events': { type: 'string', default: '200000' },
      partitions: { type: 'string', default: '6' },
      'batch-size': { type: 'string', default: '5000' },
      ledger: { type: 'string' },
      brokers: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const events = int('events', values.events);
  const customers = int('customers', values.customers);
  const seed = int('seed', values.seed);
  const rawEvents = int('raw-events', values['raw-events']);
  const partitions = int('partitions', values.partitions);
  const batchSize = int('batch-size', values['batch-size']);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-bench-relay-'));
  const ledgerFile = values.ledger ?? path.join(tmp, 'ledger.db');
  let broker: { brokers: string; stop: () => Promise<void> } | undefined;
  try {
    const total = await buildLedger(ledgerFile, seed, customers, events);
    if (values.brokers === undefined) {
      const launcher = (await import(
        pathToFileURL(path.join(ROOT, 'infra/kafka/kafka.mjs')).href
      )) as KafkaLauncher;
      broker = await launcher.startKafka({ heap: '1g', log });
    }
    const brokers = (values.brokers ?? broker!.brokers).split(',');
    const kafka = createKafka({ brokers, clientId: 'bench-relay', logger: silentLogger });
    const run = Date.now().toString(36);
    const warmTopics: TopicConfig = { prefix: `bench-warm-${run}`, layout: 'per-area' };
    const rawTopics: TopicConfig = { prefix: `bench-raw-${run}`, layout: 'per-area' };
    const raw2Topics: TopicConfig = { prefix: `bench-raw2-${run}`, layout: 'per-area' };
    const relayTopics: TopicConfig = { prefix: `bench-relay-${run}`, layout: 'per-area' };
    const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions });
    await publisher.ensureTopics(
      [warmTopics, rawTopics, raw2Topics, relayTopics].flatMap((t) => allTopics(t)),
    );

    const store = openSqliteEventStore({ file: ledgerFile });
    /** The raw producer: the first `count` events of the ledger, encoded and grouped before the clock starts. */
    const rawPass = async (label: string, topics: TopicConfig, count: number) => {
      const sends: ReturnType<typeof groupByTopic>[] = [];
      let messages = 0;
      let bytes = 0;
      for await (const page of store.readAll({ until: Math.min(count, total), batchSize })) {
        const encoded = page.map((s) => {
          const m = encodeEvent(s, topics);
          if (E.isLeft(m)) throw new Error(m.left.reason);
          return m.right;
        });
        for (const chunk of chunkBySize(encoded, 900_000)) {
          sends.push(groupByTopic(chunk));
          messages += chunk.length;
          bytes += chunk.reduce((n, m) => n + m.value.length, 0);
        }
      }
      const producer = relayProducer(kafka);
      await producer.connect();
      log(`${label}: ${messages} messages in ${sends.length} sends ...`);
      const r0 = now();
      for (const topicMessages of sends) await producer.sendBatch({ topicMessages, acks: -1 });
      const elapsed = seconds(now() - r0);
      await producer.disconnect();
      log(`${label}: ${Math.round(messages / elapsed)} messages/s`);
      return { messages, seconds: elapsed, avgValueBytes: Math.round(bytes / Math.max(1, messages)) };
    };

    // A freshly started broker (and this process) run slower for the first seconds: warm both up, untimed.
    await rawPass('warm-up', warmTopics, Math.min(50_000, rawEvents));
    const rawBefore = await rawPass('raw producer (before the relay)', rawTopics, rawEvents);

    // Relay: the whole ledger, from checkpoint 0 to the end, with a durable checkpoint (synchronous = full).
    const checkpoints = openSqliteCheckpointStore(path.join(tmp, 'checkpoints.db'));
    log(`relay: ${total} events ...`);
    const rss0 = process.memoryUsage().rss;
    let peakRss = rss0;
    const t0 = now();
    const result = await runRelay({
      name: 'bench',
      store,
      checkpoints,
      publisher,
      topics: relayTopics,
      logger: silentLogger,
      mode: 'catch-up',
      batchSize,
      onProgress: () => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      },
    });
    const relaySeconds = seconds(now() - t0);
    if (E.isLeft(result)) throw new Error(`relay failed: ${result.left.type}`);
    const rawAfter = await rawPass('raw producer (after the relay)', raw2Topics, rawEvents);
    await publisher.close();
    await store.close();
    await checkpoints.close();

    // The better of the two raw passes: the ratio is not flattered by a slow moment of the machine.
    const raw =
      rawBefore.messages / rawBefore.seconds >= rawAfter.messages / rawAfter.seconds ? rawBefore : rawAfter;
    const rawRate = raw.messages / raw.seconds;
    const relayRate = result.right.published / relaySeconds;
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      kafka: values.brokers === undefined ? 'infra/kafka 3.9.1, single node, -Xmx1g' : values.brokers,
      ledger: { events: total, customers, seed },
      partitions,
      raw: {
        messages: raw.messages,
        seconds: Math.round(raw.seconds * 100) / 100,
        eventsPerSecond: Math.round(rawRate),
        passes: [rawBefore, rawAfter].map((p) => Math.round(p.messages / p.seconds)),
        avgValueBytes: raw.avgValueBytes,
      },
      relay: {
        events: result.right.published,
        seconds: Math.round(relaySeconds * 100) / 100,
        eventsPerSecond: Math.round(relayRate),
        batchSize,
        peakRssMiB: Math.round(peakRss / 1048576),
      },
      ratio: Math.round((relayRate / rawRate) * 100) / 100,
    };
    console.log(JSON.stringify(results, null, 2));
    if (values.out !== undefined) fs.writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
    return 0;
  } finally {
    await broker?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
