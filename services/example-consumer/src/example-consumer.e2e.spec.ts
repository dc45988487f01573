import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { customerStream, upcast, type RawEnvelope } from '@crm-ledger/events';
import { connectKafkaPublisher, createKafka, runRelay, silentLogger } from '@crm-ledger/kafka';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { testBrokers } from './test-broker.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-example-consumer-e2e-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Open tickets computed straight from the ledger, independently of the consumer's handlers. */
function expectedOpenTickets(events: readonly RawEnvelope[]): Record<string, string[]> {
  const open = new Map<string, Set<string>>();
  for (const raw of events) {
    const e = upcast(raw);
    if (e === undefined) continue;
    const tickets = open.get(e.customerId) ?? new Set<string>();
    if (e.type === 'TicketOpened' || e.type === 'TicketReopened') tickets.add(e.data.ticketId);
    else if (e.type === 'TicketResolved') tickets.delete(e.data.ticketId);
    else if (e.type === 'CustomerErased') tickets.clear();
    open.set(e.customerId, tickets);
  }
  const out: Record<string, string[]> = {};
  for (const [customerId, tickets] of [...open].sort(([a], [b]) => a.localeCompare(b))) {
    if (tickets.size > 0) out[customerId] = [...tickets].sort();
  }
  return out;
}

describe('crm-example-consumer as a process', () => {
  it('rebuilds open tickets per customer from the topic, as the ledger says', async () => {
    const store = openSqliteEventStore({ file: path.join(dir, 'ledger.db'), synchronous: 'normal' });
    const checkpoints = openSqliteCheckpointStore(path.join(dir, 'checkpoints.db'));
    const events: RawEnvelope[] = [];
    for (const h of generateHistory({ seed: 7, customers: 30, targetEvents: 1500 })) {
      const result = await store.append(customerStream(h.customerId), h.events);
      expect(E.isRight(result)).toBe(true);
    }
    // The synthetic history resolves every ticket in the end: open a few more.
    for (const customerId of ['c-000001', 'c-000002']) {
      const opened: RawEnvelope = {
        eventId: randomUUID(),
        type: 'TicketOpened',
        schemaVersion: 2,
        customerId,
        occurredAt: '2026-01-01T00:00:00.000Z',
        data: { ticketId: `still-open-${customerId}`, channel: 'chat', category: 'access', priority: 'high' },
      };
      expect(E.isRight(await store.append(customerStream(customerId), [opened]))).toBe(true);
    }
    // A customer with an open ticket is erased: the consumer must forget the ticket.
    const erased = 'c-000001';
    const erasure: RawEnvelope = {
      eventId: randomUUID(),
      type: 'CustomerErased',
      schemaVersion: 1,
      customerId: erased,
      occurredAt: '2026-01-02T00:00:00.000Z',
      data: { reason: 'customer_request' },
    };
    expect(E.isRight(await store.append(customerStream(erased), [erasure]))).toBe(true);
    for await (const page of store.readAll()) events.push(...page.map((s) => s.event));
    const expected = expectedOpenTickets(events);
    expect(expected[erased]).toBeUndefined();
    expect(expected['c-000002']).toContain('still-open-c-000002');

    const kafka = createKafka({ brokers: [testBrokers()], clientId: 'e2e', logger: silentLogger });
    const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 3 });
    for (const layout of ['per-area', 'single'] as const) {
      const prefix = `e2e-example-${layout}-${process.pid}-${Date.now().toString(36)}`;
      const relayed = await runRelay({
        name: `e2e-${layout}`,
        store,
        checkpoints,
        publisher,
        topics: { prefix, layout },
        logger: silentLogger,
        mode: 'catch-up',
      });
      expect(relayed).toMatchObject({ _tag: 'Right', right: { published: events.length } });

      const { stdout } = await run(process.execPath, [MAIN, '--until-caught-up'], {
        env: {
          ...process.env,
          CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
          CRM_LEDGER_KAFKA_TOPIC_PREFIX: prefix,
          CRM_LEDGER_KAFKA_TOPIC_LAYOUT: layout,
          CRM_LEDGER_LOG_LEVEL: 'warn',
        },
        timeout: 90_000,
      });
      const view = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        stats: { invalid: number; handled: number };
        open: Record<string, string[]>;
      };
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect(view.open, layout).toEqual(expected);
      expect(view.open[erased], `${layout}: the erased customer's open ticket is forgotten`).toBeUndefined();
      expect(view.stats.invalid).toBe(0);
      expect(view.stats.handled).toBeGreaterThan(0);
    }
    await publisher.close();
    await store.close();
    await checkpoints.close();
  }, 180_000);

  it('prints its help', async () => {
    const { stdout } = await run(process.execPath, [MAIN, '--help']);
    expect(stdout).toContain('CRM_LEDGER_KAFKA_BROKERS');
  });
});
