import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_HEADERS,
  createKafka,
  readTopicsToEnd,
  relayProducer,
  silentLogger,
} from '@crm-ledger/kafka';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { testBrokers } from './test-broker.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/inbound.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-inbound-e2e-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('crm-inbound as a process', () => {
  it('appends inbound events into the ledger once and dead-letters the invalid ones, then stops on SIGTERM', async () => {
    const ledgerFile = path.join(dir, 'ledger.sqlite');
    const topic = `e2e-inbound-${process.pid}-${Date.now().toString(36)}`;
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        CRM_LEDGER_DATA_DIR: dir,
        CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
        CRM_LEDGER_INBOUND_TOPIC: topic,
        CRM_LEDGER_KAFKA_PARTITIONS: '2',
        CRM_LEDGER_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!output.includes('"consuming"')) {
      if (Date.now() > deadline) throw new Error(`never started:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const events = [...generateHistory({ seed: 3, customers: 5, targetEvents: 100 })].flatMap(
      (h) => h.events,
    );
    const kafka = createKafka({ brokers: [testBrokers()], clientId: 'e2e-inbound', logger: silentLogger });
    const producer = relayProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...events.map((e) => ({ key: e.customerId, value: JSON.stringify(e) })),
        ...events.slice(0, 10).map((e) => ({ key: e.customerId, value: JSON.stringify(e) })),
        { key: 'x', value: '{"type":"TicketOpened"}' },
      ],
    });
    await producer.disconnect();

    const store = openSqliteEventStore({ file: ledgerFile });
    try {
      const until = Date.now() + 60_000;
      while ((await store.headPosition()) < events.length && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await store.headPosition()).toBe(events.length);
      let dead = await readTopicsToEnd(kafka, [`${topic}.dlq`], { timeoutMs: 30_000 });
      while (dead.length === 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        dead = await readTopicsToEnd(kafka, [`${topic}.dlq`], { timeoutMs: 30_000 });
      }
      expect(dead).toHaveLength(1);
      expect(dead[0]!.headers[DEAD_LETTER_HEADERS.reason]).toBe('invalid_event');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await store.headPosition()).toBe(events.length);
    } finally {
      await store.close();
    }
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  }, 120_000);

  it('writes to the event store of the shared configuration: EventStoreDB without its URL is refused (exit 2)', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        CRM_LEDGER_DATA_DIR: dir,
        CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
        CRM_LEDGER_EVENT_STORE: 'eventstoredb',
        CRM_LEDGER_EVENTSTOREDB_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/CRM_LEDGER_EVENTSTOREDB_URL/);
  }, 60_000);
});
