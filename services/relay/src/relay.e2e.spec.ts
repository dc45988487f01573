import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '@crm-ledger/core';
import { SIGNAL_TYPES, customerStream, type RawEnvelope } from '@crm-ledger/events';
import {
  HEADERS,
  allTopics,
  createKafka,
  decodeMessage,
  readTopicsToEnd,
  redactPii,
  silentLogger,
} from '@crm-ledger/kafka';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { testBrokers } from './test-broker.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SEED = 20_241_123;
const KILLS = 5;

/** A small seeded generator, so kill points are random but the run can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A uuid (v4 layout) from a text: the same signal ids on every run. */
const uuidOf = (text: string): string => {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** Two signals per customer, each an hour after one of its events (a third and two thirds into its history). */
function signalsOf(customerId: string, history: readonly RawEnvelope[]): RawEnvelope[] {
  const at = (i: number): string =>
    new Date(Date.parse(history[Math.floor(history.length * i)]!.occurredAt) + 3_600_000).toISOString();
  if (history.length < 3) return [];
  return [
    {
      eventId: uuidOf(`silent|${customerId}`),
      type: 'CustomerWentSilent',
      schemaVersion: 1,
      customerId,
      occurredAt: at(1 / 3),
      data: { silentDays: 60, lastInteractionAt: history[0]!.occurredAt },
    },
    {
      eventId: uuidOf(`sla|${customerId}`),
      type: 'TicketSlaBreached',
      schemaVersion: 1,
      customerId,
      occurredAt: at(2 / 3),
      data: {
        ticketId: 't-1',
        slaPolicy: 'standard',
        target: 'first_reply',
        targetMinutes: 60,
        dueAt: at(2 / 3),
      },
    },
  ];
}

let dir: string;
let ledgerFile: string;
const ledger: StoredEvent[] = [];

/** Seeds a ledger with a synthetic history, appended in the order things happened (customers interleaved). */
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-relay-e2e-'));
  ledgerFile = path.join(dir, 'ledger.sqlite');
  const store = openSqliteEventStore({ file: ledgerFile, synchronous: 'normal' });
  const events: RawEnvelope[] = [];
  for (const h of generateHistory({ seed: SEED, customers: 40, targetEvents: 3000 })) {
    events.push(...h.events);
    // Signals (issue #16) interleaved with the rest: the kills land while the relay publishes them too.
    events.push(...signalsOf(h.customerId, h.events));
  }
  events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  for (const event of events) {
    const result = await store.append(customerStream(event.customerId), [event]);
    if (E.isLeft(result)) throw new Error(`seeding failed: ${JSON.stringify(result.left)}`);
  }
  for await (const page of store.readAll()) ledger.push(...page);
  await store.close();
}, 120_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function startRelay(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      CRM_LEDGER_DATA_DIR: dir,
      CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
      CRM_LEDGER_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crm-relay as a process, killed with SIGKILL at random points', () => {
  it('ends with every ledger event on Kafka (signals included), in ledger order per customer, none missing', async () => {
    const random = rng(SEED);
    const prefix = `e2e-kill-${process.pid}-${Date.now().toString(36)}`;
    const checkpointFile = path.join(dir, `${prefix}.checkpoints.db`);
    const env = {
      CRM_LEDGER_KAFKA_TOPIC_PREFIX: prefix,
      CRM_LEDGER_RELAY_CHECKPOINT_FILE: checkpointFile,
      CRM_LEDGER_RELAY_MODE: 'catch-up',
      CRM_LEDGER_KAFKA_PARTITIONS: '3',
      // Small pages and sends: many checkpoints, so kills land before, during and after sends.
      CRM_LEDGER_RELAY_BATCH_SIZE: '50',
      CRM_LEDGER_RELAY_MAX_SEND_BYTES: '8000',
    };
    const total = ledger.length;
    const targets = Array.from({ length: KILLS }, () => Math.floor(random() * total * 0.9)).sort(
      (a, b) => a - b,
    );
    const checkpointsSeen: number[] = [];
    for (const target of targets) {
      const relay = startRelay(env);
      // Wait until the relay's checkpoint passes the target, then kill it a random few milliseconds later.
      for (;;) {
        const checkpoints = openSqliteCheckpointStore(checkpointFile);
        const position = await checkpoints.load('kafka-relay');
        await checkpoints.close();
        if (position >= target) break;
        await sleep(5);
      }
      await sleep(Math.floor(random() * 30));
      relay.child.kill('SIGKILL');
      const exit = await relay.exited;
      expect(exit.signal, exit.stderr).toBe('SIGKILL');
      const checkpoints = openSqliteCheckpointStore(checkpointFile);
      checkpointsSeen.push(await checkpoints.load('kafka-relay'));
      await checkpoints.close();
    }
    expect(checkpointsSeen.every((p) => p < total)).toBe(true);

    const final = await startRelay(env).exited;
    expect(final.code, final.stderr).toBe(0);

    const kafka = createKafka({ brokers: [testBrokers()], clientId: 'e2e-reader', logger: silentLogger });
    const records = await readTopicsToEnd(kafka, allTopics({ prefix, layout: 'per-area' }), {
      timeoutMs: 90_000,
    });

    // Every ledger event is there at least once; nothing else is.
    const byId = new Map(ledger.map((s) => [s.event.eventId, s]));
    const ids = new Set(records.map((r) => r.headers[HEADERS.id]!));
    expect(ids.size).toBe(total);
    expect([...ids].every((id) => byId.has(id))).toBe(true);
    expect(records.length).toBeGreaterThanOrEqual(total);

    // Every signal is on the signals topic (the relay was killed while publishing them too), nothing else is.
    const signalIds = new Set(
      ledger.filter((s) => SIGNAL_TYPES.some((t) => t === s.event.type)).map((s) => s.event.eventId),
    );
    expect(signalIds.size).toBe(80);
    const onSignals = records.filter((r) => r.topic === `${prefix}.signals`);
    expect(new Set(onSignals.map((r) => r.headers[HEADERS.id]!))).toEqual(signalIds);
    expect(
      checkpointsSeen.some((p) => ledger.some((s) => signalIds.has(s.event.eventId) && s.globalPosition > p)),
    ).toBe(true);

    // Per customer and topic, in offset order and keeping first copies only, positions strictly increase.
    const sorted = [...records].sort((a, b) =>
      a.topic === b.topic && a.partition === b.partition
        ? Number(BigInt(a.offset) - BigInt(b.offset))
        : `${a.topic}:${a.partition}`.localeCompare(`${b.topic}:${b.partition}`),
    );
    const firstSeen = new Set<string>();
    const lastPosition = new Map<string, number>();
    for (const r of sorted) {
      const id = r.headers[HEADERS.id]!;
      if (firstSeen.has(id)) continue;
      firstSeen.add(id);
      const key = `${r.topic}|${r.key}`;
      const position = Number(r.headers[HEADERS.globalPosition]);
      expect(position).toBeGreaterThan(lastPosition.get(key) ?? 0);
      lastPosition.set(key, position);
    }

    // Each message is the ledger's event (personal data removed), valid for the catalogue.
    for (const r of records) {
      const stored = byId.get(r.headers[HEADERS.id]!)!;
      expect(r.key).toBe(stored.event.customerId);
      expect(Number(r.headers[HEADERS.globalPosition])).toBe(stored.globalPosition);
      const expected = { ...stored.event, data: redactPii(stored.event.type, stored.event.data).data };
      expect(JSON.parse(r.value!)).toEqual(expected);
      const decoded = decodeMessage({ ...r, key: null, value: Buffer.from(r.value!) });
      expect(decoded, `${r.headers[HEADERS.type]} ${r.value}`).toMatchObject({ _tag: 'Right' });
    }
    console.info(
      `relay e2e: ${total} events, killed at checkpoints ${checkpointsSeen.join(', ')}; ${records.length - total} duplicates on Kafka`,
    );
  }, 240_000);

  it('exits 1 without moving its checkpoint when no broker answers', async () => {
    const checkpointFile = path.join(dir, 'unreachable.checkpoints.db');
    const exit = await startRelay({
      CRM_LEDGER_KAFKA_BROKERS: '127.0.0.1:1',
      CRM_LEDGER_RELAY_CHECKPOINT_FILE: checkpointFile,
      CRM_LEDGER_RELAY_RETRIES: '1',
      CRM_LEDGER_RELAY_MODE: 'catch-up',
    }).exited;
    expect(exit.code, exit.stderr).toBe(1);
    const checkpoints = openSqliteCheckpointStore(checkpointFile);
    expect(await checkpoints.load('kafka-relay')).toBe(0);
    await checkpoints.close();
  }, 60_000);

  it('exits 2 naming every wrong variable', async () => {
    const exit = await startRelay({
      CRM_LEDGER_KAFKA_BROKERS: '',
      CRM_LEDGER_KAFKA_TOPIC_LAYOUT: 'sideways',
      CRM_LEDGER_RELAY_BATCH_SIZE: '0',
    }).exited;
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('CRM_LEDGER_KAFKA_BROKERS: is required');
    expect(exit.stderr).toContain(
      "CRM_LEDGER_KAFKA_TOPIC_LAYOUT: must be one of per-area, single, got 'sideways'",
    );
    expect(exit.stderr).toContain('CRM_LEDGER_RELAY_BATCH_SIZE');
  });

  // Issue 23: a broker outage no longer ends the relay (it used to exit 1 once its send retries ran out): it
  // keeps its checkpoint before the unsent events, retries with capped backoff, and goes on by itself when a
  // broker answers again on the same address.
  it('stays up through a broker outage, checkpoint before the unsent events, and finishes when the broker is back', async () => {
    // A broker of its own, since this test kills it.
    const launcher = (await import(pathToFileURL(path.join(ROOT, 'infra/kafka/kafka.mjs')).href)) as {
      startKafka(options: object): Promise<{ brokers: string; pid: number; stop: () => Promise<void> }>;
    };
    let broker = await launcher.startKafka({});
    const port = Number(broker.brokers.split(':').at(-1));
    const checkpointFile = path.join(dir, 'dying-broker.checkpoints.db');
    const relay = startRelay({
      CRM_LEDGER_KAFKA_BROKERS: broker.brokers,
      CRM_LEDGER_KAFKA_PARTITIONS: '1',
      CRM_LEDGER_RELAY_CHECKPOINT_FILE: checkpointFile,
      CRM_LEDGER_RELAY_RETRIES: '2',
      CRM_LEDGER_RELAY_BATCH_SIZE: '100',
      CRM_LEDGER_RELAY_MAX_SEND_BYTES: '20000',
    });
    let output = '';
    relay.child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    relay.child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const checkpoint = async () => {
        const checkpoints = openSqliteCheckpointStore(checkpointFile);
        try {
          return await checkpoints.load('kafka-relay');
        } finally {
          await checkpoints.close();
        }
      };
      while ((await checkpoint()) < 300) await sleep(10);
      process.kill(broker.pid, 'SIGKILL');
      await broker.stop().catch(() => undefined);
      const deadline = Date.now() + 60_000;
      while (!/transient failure, retrying/.test(output) && Date.now() < deadline) await sleep(100);
      expect(output).toMatch(/relay: transient failure, retrying from the checkpoint/);
      await sleep(5_000);
      expect(relay.child.exitCode, output).toBeNull();
      const saved = await checkpoint();
      expect(saved).toBeGreaterThanOrEqual(300);
      expect(saved).toBeLessThan(ledger.length);

      broker = await launcher.startKafka({ port });
      const backAt = Date.now();
      while ((await checkpoint()) < ledger.length && Date.now() - backAt < 120_000) await sleep(100);
      expect(await checkpoint(), output).toBe(ledger.length);
      expect(relay.child.exitCode).toBeNull();
      relay.child.kill('SIGTERM');
      expect((await relay.exited).code).toBe(0);
    } finally {
      if (relay.child.exitCode === null) relay.child.kill('SIGKILL');
      await broker.stop();
    }
  }, 300_000);
});
