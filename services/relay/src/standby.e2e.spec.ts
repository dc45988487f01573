import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { HEADERS, allTopics, createKafka, readTopicsToEnd, silentLogger } from '@crm-ledger/kafka';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { testBrokers } from './test-broker.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

let dir: string;
let ledgerFile: string;
let late: RawEnvelope[] = [];
let seeded = 0;

/** A ledger with a backlog big enough that a relay publishing in small sends is still busy when a second starts. */
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-relay-standby-'));
  ledgerFile = path.join(dir, 'ledger.sqlite');
  const store = openSqliteEventStore({ file: ledgerFile, synchronous: 'normal' });
  const events = [...generateHistory({ seed: 7, customers: 30, targetEvents: 2000 })].flatMap(
    (h) => h.events,
  );
  events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  // the last customers' events come later, after the first relay died
  const lateCustomers = new Set(events.slice(-1).map((e) => e.customerId));
  late = events.filter((e) => lateCustomers.has(e.customerId));
  for (const event of events.filter((e) => !lateCustomers.has(e.customerId))) {
    const r = await store.append(customerStream(event.customerId), [event]);
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
    seeded++;
  }
  await store.close();
}, 120_000);

/** Every relay the test started: a failed assertion must not leave one running (or frozen) after the run. */
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  fs.rmSync(dir, { recursive: true, force: true });
});

function startRelay(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      CRM_LEDGER_DATA_DIR: dir,
      CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
      CRM_LEDGER_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('two relay processes on one checkpoint: one active, one standby', () => {
  it('the second waits while the first publishes, takes over when it is killed, and nothing is published twice', async () => {
    const prefix = `e2e-standby-${process.pid}-${Date.now().toString(36)}`;
    const checkpointFile = path.join(dir, 'checkpoints.db');
    const env = {
      CRM_LEDGER_KAFKA_TOPIC_PREFIX: prefix,
      CRM_LEDGER_RELAY_CHECKPOINT_FILE: checkpointFile,
      CRM_LEDGER_KAFKA_PARTITIONS: '3',
      // small pages and sends: the backlog takes the first relay a while
      CRM_LEDGER_RELAY_BATCH_SIZE: '20',
      CRM_LEDGER_RELAY_MAX_SEND_BYTES: '4000',
    };
    const position = async () => {
      const c = openSqliteCheckpointStore(checkpointFile);
      try {
        return await c.load('kafka-relay');
      } finally {
        await c.close();
      }
    };
    const a = startRelay(env);
    await until('relay A active', () => a.output().includes('active: this relay holds the lock'), 60_000);
    // A is frozen mid-backlog while B starts (a stopped process keeps its lock): on a loaded machine B's start
    // alone can take longer than A's whole backlog, and then nothing would prove that B stood by while A had
    // events left to publish
    a.child.kill('SIGSTOP');
    const checkpointWhenBStarted = await position();
    expect(checkpointWhenBStarted).toBeLessThan(seeded); // A is still busy: both could publish
    const b = startRelay(env);
    await until('relay B standby', () => b.output().includes('standby: another relay is active'));
    await sleep(1500); // B keeps trying the lock meanwhile, A still frozen with events left
    expect(b.output()).not.toContain('active: this relay holds the lock');
    expect(await position()).toBe(checkpointWhenBStarted); // and B published nothing
    a.child.kill('SIGCONT');
    await until('A caught up', async () => (await position()) === seeded);
    await sleep(1500); // B keeps trying the lock meanwhile
    expect(b.output()).not.toContain('active: this relay holds the lock');

    a.child.kill('SIGKILL');
    await a.exited;
    const store = openSqliteEventStore({ file: ledgerFile, synchronous: 'normal' });
    for (const event of late) {
      const r = await store.append(customerStream(event.customerId), [event]);
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
    }
    await store.close();
    const total = seeded + late.length;
    await until('B active', () => b.output().includes('active: this relay holds the lock'));
    await until('B caught up', async () => (await position()) === total);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);

    const kafka = createKafka({ brokers: [testBrokers()], clientId: 'standby-reader', logger: silentLogger });
    const records = await readTopicsToEnd(kafka, allTopics({ prefix, layout: 'per-area' }), {
      timeoutMs: 60_000,
    });
    const ids = records.map((r) => r.headers[HEADERS.id]!);
    expect(new Set(ids).size).toBe(total);
    // A was killed idle (everything it published was checkpointed) and B never ran beside it: no duplicates at all
    expect(ids.length).toBe(total);
  }, 180_000);
});
