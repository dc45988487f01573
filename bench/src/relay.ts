/**
 * Relay benchmark: events/s from the ledger (SQLite) to acknowledged on a local Kafka broker, through the relay
 * (`runRelay`: read pages, encode with CloudEvents headers and PII removal, send, await acks = all, save the
 * checkpoint), beside two references measured in the same run on the same broker:
 * - `kcat -P` (Debian's kcat, librdkafka: not our code, not our client), the same messages (keys and values; the
 *   headers of the first message on every message, kcat's -H being per run), idempotent, acks = all, one request in
 *   flight, topic by topic; the reference of the target (relay >= 0.5x kcat, issue 18);
 * - kafkajs's raw producer: the same producer settings as the relay (`relayProducer`), the same messages already
 *   encoded and grouped, sent in the same sends, nothing else timed (how much of the gap is the client);
 * - the same sends through the relay's publisher with `--raw-producers` (4) kafkajs producers, each owning the
 *   partitions p mod 4; optionally `@platformatic/kafka` (`--with-platformatic`) and a local build of
 *   `@confluentinc/kafka-javascript` (`--confluent <dir>`; docs/kafka.md, "Client").
 * The bench installs nothing: kcat comes from `apt-get install kcat` (CI's .ci/run installs it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { customerStream } from '@crm-ledger/events';
import {
  allTopics,
  chunkBySize,
  connectKafkaPublisher,
  createKafka,
  DEFAULT_PRODUCERS,
  encodeEvent,
  relayProducer,
  runRelay,
  silentLogger,
  type OutgoingMessage,
  type TopicConfig,
} from '@crm-ledger/kafka';
// measurement only, not part of the relay (a dev dependency of @crm-ledger/kafka: see docs/kafka.md, "Client")
import { timeSendsWithPlatformatic } from '@crm-ledger/kafka/platformatic-probe';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { runMain, tempDir, track } from './lib/cleanup.js';
import { startBroker } from './lib/kafka-broker.js';
import { timeSendsWithConfluent } from './lib/confluent-probe.js';

const HELP = `Usage: node bench/dist/relay.js [options]

Relays a synthetic ledger to a local Kafka broker and measures events/s from ledger to acknowledged, beside, in the
same run and on the same broker: kcat -P (Debian's kcat on PATH: apt-get install kcat; idempotent, acks=all, one
request in flight, the same messages), kafkajs's raw producer and @platformatic/kafka (same messages, same sends).

Options:
  --events <n>       events in the ledger (default 1000000)
  --customers <n>    customers (default 10000)
  --seed <n>         generator seed (default 42)
  --raw-events <n>   messages sent by each raw producer pass (default 200000)
  --partitions <n>   partitions per topic (default 6)
  --batch-size <n>   relay page size (default 5000)
  --producers <n>    parallel kafkajs producers of the relay (default: the relay's default, 1)
  --raw-producers <n>  parallel kafkajs producers of the second kafkajs pass (default 4)
  --max-send-bytes <n>  relay send size (default 900000)
  --with-platformatic   also measure @platformatic/kafka (needs Node >= 22.22; polyfilled here)
  --confluent <dir>  also measure a local build of @confluentinc/kafka-javascript (docs/kafka.md, "Client")
  --ledger <file>    reuse (or build and keep) the ledger in this SQLite file
  --brokers <list>   use this broker instead of starting one from infra/kafka
  --out <file>       write the results as JSON there
  --smoke            a smoke run: 2,000 events, 20 customers, 2,000 raw events, 1 partition, a 512 MiB broker
                     heap, a throw-away ledger (CI)
  -h, --help         this help
`;

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      customers: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '42' },
      'raw-events': { type: 'string', default: '200000' },
      partitions: { type: 'string', default: '6' },
      'batch-size': { type: 'string', default: '5000' },
      producers: { type: 'string', default: String(DEFAULT_PRODUCERS) },
      'raw-producers': { type: 'string', default: '4' },
      'max-send-bytes': { type: 'string', default: '900000' },
      'with-platformatic': { type: 'boolean', default: false },
      confluent: { type: 'string' },
      ledger: { type: 'string' },
      brokers: { type: 'string' },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(HELP);
    return;
  }
  if (values.smoke)
    Object.assign(values, {
      events: '2000',
      customers: '20',
      'raw-events': '2000',
      partitions: '1',
      'batch-size': '500',
      ledger: undefined,
    });
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
  const producers = int('producers', values.producers);
  const rawProducers = int('raw-producers', values['raw-producers']);
  const maxSendBytes = int('max-send-bytes', values['max-send-bytes']);

  // Removed (with the broker's run directory below) when the bench ends, throws or is stopped.
  const tmp = tempDir('crm-bench-relay-');
  const ledgerFile = values.ledger ?? path.join(tmp, 'ledger.db');
  let broker: { brokers: string; stop: () => Promise<void> } | undefined;
  let forgetBroker = () => {};
  try {
    const total = await buildLedger(ledgerFile, seed, customers, events);
    if (values.brokers === undefined) {
      ({ broker, forget: forgetBroker } = await startBroker(values.smoke ? '512m' : '1g', log));
    }
    const brokers = (values.brokers ?? broker!.brokers).split(',');
    const kafka = createKafka({ brokers, clientId: 'bench-relay', logger: silentLogger });
    const run = Date.now().toString(36);
    const warmTopics: TopicConfig = { prefix: `bench-warm-${run}`, layout: 'per-area' };
    const rawTopics: TopicConfig = { prefix: `bench-raw-${run}`, layout: 'per-area' };
    const raw2Topics: TopicConfig = { prefix: `bench-raw2-${run}`, layout: 'per-area' };
    const kcatTopics: TopicConfig = { prefix: `bench-kcat-${run}`, layout: 'per-area' };
    const kcat2Topics: TopicConfig = { prefix: `bench-kcat2-${run}`, layout: 'per-area' };
    const platTopics: TopicConfig = { prefix: `bench-plat-${run}`, layout: 'per-area' };
    const relayTopics: TopicConfig = { prefix: `bench-relay-${run}`, layout: 'per-area' };
    const confTopics: TopicConfig = { prefix: `bench-conf-${run}`, layout: 'per-area' };
    const conf2Topics: TopicConfig = { prefix: `bench-conf2-${run}`, layout: 'per-area' };
    const confPTopics: TopicConfig = { prefix: `bench-confp-${run}`, layout: 'per-area' };
    const confP2Topics: TopicConfig = { prefix: `bench-confp2-${run}`, layout: 'per-area' };
    const rawNTopics: TopicConfig = { prefix: `bench-rawn-${run}`, layout: 'per-area' };
    const rawN2Topics: TopicConfig = { prefix: `bench-rawn2-${run}`, layout: 'per-area' };
    const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions, producers });
    await publisher.ensureTopics(
      [
        warmTopics,
        rawTopics,
        raw2Topics,
        rawNTopics,
        rawN2Topics,
        kcatTopics,
        kcat2Topics,
        platTopics,
        relayTopics,
        confTopics,
        conf2Topics,
        confPTopics,
        confP2Topics,
      ].flatMap((t) => allTopics(t)),
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

    /** The first `count` events encoded as the relay encodes them, in sends of at most `maxBytes`: before any clock. */
    const preparedSends = async (topics: TopicConfig, count: number, maxBytes: number) => {
      const sends: OutgoingMessage[][] = [];
      let messages = 0;
      for await (const page of store.readAll({ until: Math.min(count, total), batchSize })) {
        const encoded = page.map((s) => {
          const m = encodeEvent(s, topics);
          if (E.isLeft(m)) throw new Error(m.left.reason);
          return m.right;
        });
        for (const chunk of chunkBySize(encoded, maxBytes)) {
          sends.push(chunk);
          messages += chunk.length;
        }
      }
      return { sends, messages };
    };

    /**
     * kafkajs through the relay's publisher with `rawProducers` parallel producers (each owning a disjoint set of
     * partitions): the same messages encoded before the clock starts, sent in the relay's sends, nothing else timed.
     */
    const rawProducersPass = async (label: string, topics: TopicConfig, count: number) => {
      const { sends, messages } = await preparedSends(topics, count, maxSendBytes);
      const lanes = await connectKafkaPublisher({
        kafka,
        logger: silentLogger,
        partitions,
        producers: rawProducers,
      });
      await lanes.ensureTopics(allTopics(topics)); // reads the partition counts, untimed
      await lanes.publish(sends[0]!.slice(0, 1)); // connects every producer's broker connection, untimed
      log(`${label}: ${messages} messages in ${sends.length} sends ...`);
      const r0 = now();
      for (const send of sends) await lanes.publish(send);
      const elapsed = seconds(now() - r0);
      await lanes.close();
      log(`${label}: ${Math.round(messages / elapsed)} messages/s`);
      return { messages, seconds: elapsed };
    };

    /** The same prepared sends through @platformatic/kafka (measurement only: the relay uses kafkajs). */
    const platformaticPass = async (label: string, topics: TopicConfig, count: number) => {
      const { sends, messages } = await preparedSends(topics, count, 900_000);
      log(`${label}: ${messages} messages in ${sends.length} sends ...`);
      const elapsed = await timeSendsWithPlatformatic(brokers, sends);
      log(`${label}: ${Math.round(messages / elapsed)} messages/s`);
      return { messages, seconds: elapsed };
    };

    /** The same prepared sends through a local build of @confluentinc/kafka-javascript (`--confluent <dir>`). */
    const confluentPass = async (
      label: string,
      topics: TopicConfig,
      count: number,
      dir: string,
      window = 1,
    ) => {
      const { sends, messages } = await preparedSends(topics, count, maxSendBytes);
      log(`${label}: ${messages} messages in ${sends.length} sends ...`);
      const { seconds: elapsed, version } = await timeSendsWithConfluent(dir, brokers, sends, window);
      log(`${label} ${version}: ${Math.round(messages / elapsed)} messages/s`);
      return { messages, seconds: elapsed, version };
    };

    /** kcat -P: the first `count` events, encoded, one file per topic written before the clock starts. */
    const kcatPass = async (label: string, topics: TopicConfig, count: number) => {
      const files = new Map<string, { file: string; lines: string[] }>();
      let headers: Readonly<Record<string, string>> | undefined;
      let messages = 0;
      for await (const page of store.readAll({ until: Math.min(count, total), batchSize })) {
        for (const s of page) {
          const m = encodeEvent(s, topics);
          if (E.isLeft(m)) throw new Error(m.left.reason);
          headers ??= m.right.headers;
          let entry = files.get(m.right.topic);
          if (entry === undefined) {
            entry = { file: path.join(tmp, `${m.right.topic}.kcat`), lines: [] };
            files.set(m.right.topic, entry);
          }
          entry.lines.push(`${m.right.key}\t${m.right.value}`);
          messages++;
        }
      }
      for (const entry of files.values()) fs.writeFileSync(entry.file, `${entry.lines.join('\n')}\n`);
      const headerArgs = Object.entries(headers ?? {}).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
      log(`${label}: ${messages} messages to ${files.size} topics ...`);
      const r0 = now();
      for (const [topic, entry] of files) {
        await new Promise<void>((resolve, reject) => {
          const child = track(
            spawn(
              'kcat',
              [
                '-P',
                '-b',
                brokers.join(','),
                '-t',
                topic,
                '-K',
                '\t',
                '-l',
                '-X',
                'enable.idempotence=true',
                '-X',
                'acks=all',
                '-X',
                'max.in.flight.requests.per.connection=1',
                ...headerArgs,
                entry.file,
              ],
              { stdio: ['ignore', 'ignore', 'pipe'] },
            ),
          );
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.once('error', reject);
          child.once('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`)),
          );
        });
      }
      const elapsed = seconds(now() - r0);
      log(`${label}: ${Math.round(messages / elapsed)} messages/s`);
      return { messages, seconds: elapsed };
    };

    // A freshly started broker (and this process) run slower for the first seconds: warm both up, untimed.
    await rawPass('warm-up', warmTopics, Math.min(50_000, rawEvents));
    const rawBefore = await rawPass('raw producer (before the relay)', rawTopics, rawEvents);
    const kcatBefore = await kcatPass('kcat -P (before the relay)', kcatTopics, rawEvents);
    const rawNBefore = await rawProducersPass(
      `kafkajs, ${rawProducers} producers (before the relay)`,
      rawNTopics,
      rawEvents,
    );
    const confluentDir = values.confluent;
    const confBefore =
      confluentDir === undefined
        ? undefined
        : await confluentPass(
            '@confluentinc/kafka-javascript (before the relay)',
            confTopics,
            rawEvents,
            confluentDir,
          );
    const confPipeBefore =
      confluentDir === undefined
        ? undefined
        : await confluentPass(
            '@confluentinc/kafka-javascript, 8 sends outstanding (before the relay)',
            confPTopics,
            rawEvents,
            confluentDir,
            8,
          );
    const platformatic = values['with-platformatic']
      ? await platformaticPass('@platformatic/kafka (same sends)', platTopics, rawEvents)
      : undefined;

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
      maxSendBytes,
      onProgress: () => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      },
    });
    const relaySeconds = seconds(now() - t0);
    if (E.isLeft(result)) throw new Error(`relay failed: ${result.left.type}`);
    const rawAfter = await rawPass('raw producer (after the relay)', raw2Topics, rawEvents);
    const rawNAfter = await rawProducersPass(
      `kafkajs, ${rawProducers} producers (after the relay)`,
      rawN2Topics,
      rawEvents,
    );
    const kcatAfter = await kcatPass('kcat -P (after the relay)', kcat2Topics, rawEvents);
    const confAfter =
      confluentDir === undefined
        ? undefined
        : await confluentPass(
            '@confluentinc/kafka-javascript (after the relay)',
            conf2Topics,
            rawEvents,
            confluentDir,
          );
    const confPipeAfter =
      confluentDir === undefined
        ? undefined
        : await confluentPass(
            '@confluentinc/kafka-javascript, 8 sends outstanding (after the relay)',
            confP2Topics,
            rawEvents,
            confluentDir,
            8,
          );
    await publisher.close();
    await store.close();
    await checkpoints.close();

    // The better of the two raw passes: the ratio is not flattered by a slow moment of the machine.
    const raw =
      rawBefore.messages / rawBefore.seconds >= rawAfter.messages / rawAfter.seconds ? rawBefore : rawAfter;
    const rawRate = raw.messages / raw.seconds;
    const kcat =
      kcatBefore.messages / kcatBefore.seconds >= kcatAfter.messages / kcatAfter.seconds
        ? kcatBefore
        : kcatAfter;
    const kcatRate = kcat.messages / kcat.seconds;
    const relayRate = result.right.published / relaySeconds;
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      kafka:
        values.brokers === undefined
          ? `infra/kafka 3.9.1, single node, -Xmx${values.smoke ? '512m' : '1g'}`
          : values.brokers,
      ledger: { events: total, customers, seed },
      partitions,
      raw: {
        messages: raw.messages,
        seconds: Math.round(raw.seconds * 100) / 100,
        eventsPerSecond: Math.round(rawRate),
        passes: [rawBefore, rawAfter].map((p) => Math.round(p.messages / p.seconds)),
        avgValueBytes: raw.avgValueBytes,
      },
      kcat: {
        command:
          'kcat -P -b <broker> -t <topic> -K \\t -l -X enable.idempotence=true -X acks=all -X max.in.flight.requests.per.connection=1 -H <each header of the first message> <file of key\\tvalue lines>, topic by topic',
        messages: kcat.messages,
        seconds: Math.round(kcat.seconds * 100) / 100,
        eventsPerSecond: Math.round(kcatRate),
        passes: [kcatBefore, kcatAfter].map((p) => Math.round(p.messages / p.seconds)),
      },
      rawProducers: {
        producers: rawProducers,
        passes: [rawNBefore, rawNAfter].map((p) => Math.round(p.messages / p.seconds)),
        eventsPerSecond: Math.max(...[rawNBefore, rawNAfter].map((p) => Math.round(p.messages / p.seconds))),
        ratioToKcat:
          Math.round(
            (Math.max(...[rawNBefore, rawNAfter].map((p) => p.messages / p.seconds)) / kcatRate) * 100,
          ) / 100,
      },
      confluentEightOutstanding:
        confPipeBefore === undefined || confPipeAfter === undefined
          ? 'not measured (--confluent <dir of a build>)'
          : {
              passes: [confPipeBefore, confPipeAfter].map((p) => Math.round(p.messages / p.seconds)),
              ratioToKcat:
                Math.round(
                  (Math.max(...[confPipeBefore, confPipeAfter].map((p) => p.messages / p.seconds)) /
                    kcatRate) *
                    100,
                ) / 100,
            },
      confluent:
        confBefore === undefined || confAfter === undefined
          ? 'not measured (--confluent <dir of a build>)'
          : {
              version: confBefore.version,
              build:
                'librdkafka bundled in its npm package, built with CKJS_LINKING=dynamic against Debian dev packages',
              passes: [confBefore, confAfter].map((p) => Math.round(p.messages / p.seconds)),
              eventsPerSecond: Math.max(
                ...[confBefore, confAfter].map((p) => Math.round(p.messages / p.seconds)),
              ),
              ratioToKcat:
                Math.round(
                  (Math.max(...[confBefore, confAfter].map((p) => p.messages / p.seconds)) / kcatRate) * 100,
                ) / 100,
            },
      platformatic:
        platformatic === undefined
          ? 'not measured (--with-platformatic)'
          : {
              messages: platformatic.messages,
              seconds: Math.round(platformatic.seconds * 100) / 100,
              eventsPerSecond: Math.round(platformatic.messages / platformatic.seconds),
              ratioToKcat: Math.round((platformatic.messages / platformatic.seconds / kcatRate) * 100) / 100,
            },
      relay: {
        events: result.right.published,
        seconds: Math.round(relaySeconds * 100) / 100,
        eventsPerSecond: Math.round(relayRate),
        batchSize,
        maxSendBytes,
        producers,
        peakRssMiB: Math.round(peakRss / 1048576),
      },
      ratio: Math.round((relayRate / rawRate) * 100) / 100,
      ratioToKcat: Math.round((relayRate / kcatRate) * 100) / 100,
    };
    console.log(JSON.stringify(results, null, 2));
    if (values.out !== undefined) fs.writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    forgetBroker();
    await broker?.stop();
  }
}

runMain(main);
