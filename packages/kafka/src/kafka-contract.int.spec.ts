import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { type CloudEvent, Kafka as CE, type KafkaMessage } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  catalogue,
  customerStream,
  stringFields,
  type EventDefinition,
  type EventType,
  type RawEnvelope,
} from '@crm-ledger/events';
import { createKafka } from './client.js';
import { HEADERS } from './headers.js';
import { silentLogger } from './logger.js';
import { connectKafkaPublisher } from './publisher.js';
import { runRelay } from './relay.js';
import { testBrokers, uniquePrefix } from './test-broker.js';
import { CANARY, canaryEvents, withValueAt } from './test-canary.js';
import { kcatAvailable, kcatRead, type KcatRecord } from './test-kcat.js';
import { tempLedger } from './test-ledger.js';
import { allTopics, type TopicConfig } from './topics.js';

const SCHEMAS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/schemas');

/**
 * The Kafka contract, checked from outside: personal values in every field of every event type go into the ledger,
 * the relay publishes everything, and `kcat` (librdkafka, not our code) reads the topics back. No personal value is
 * in any key, header or value; every message is a valid CloudEvent whose value matches the JSON Schema it names.
 */
const events = canaryEvents();
let ledger: ReturnType<typeof tempLedger>;
let records: KcatRecord[] = [];
const refusals: {
  what: string;
  issues: readonly { path: readonly (string | number)[]; message: string }[];
}[] = [];
let accepted = 0;

/** Each refused case: an accepted canary event with one non-personal field replaced by a personal value. */
function refusedCases(): { what: string; path: string[]; event: RawEnvelope }[] {
  const cases: { what: string; path: string[]; event: RawEnvelope }[] = [];
  let k = 0;
  const email = () => `${CANARY}-refused-${++k}@example.com`;
  for (const event of events) {
    const def = catalogue[event.type as EventType] as EventDefinition;
    const schema =
      event.schemaVersion === def.latestVersion ? def.latest : def.older[event.schemaVersion - 1]!.schema;
    const envelope: [string, unknown][] = [
      ['customerId', email()],
      ['customerId', `004915${String(++k).padStart(8, '0')}`],
      ['correlationId', email()],
      ['causationId', email()],
      ['importId', email()],
      ['source', `Zoe ${CANARY}${++k} Doe`],
      ['source', email()],
      ['eventId', email()],
      ['occurredAt', email()],
    ];
    for (const [field, value] of envelope) {
      cases.push({
        what: `${event.type} ${field}=${String(value)}`,
        path: [field],
        event: withValueAt(event, [field], value),
      });
    }
    const data = event.data as Record<string, unknown>;
    for (const field of stringFields(schema)) {
      if (field.personal !== false) continue;
      const top = field.path[0];
      if (top === undefined || !Object.hasOwn(data, top)) continue; // a field of another union option
      const at = ['data', ...field.path];
      cases.push({
        what: `${event.type} data.${field.path.join('.')}`,
        path: at,
        event: withValueAt(event, at, email()),
      });
    }
  }
  return cases;
}

beforeAll(async () => {
  ledger = tempLedger('catalogue');
  for (const event of events) {
    const r = await ledger.store.append(customerStream(event.customerId), [event]);
    if (E.isLeft(r)) throw new Error(`canary event refused: ${JSON.stringify(r.left)}`);
    accepted++;
  }
  for (const c of refusedCases()) {
    const r = await ledger.store.append(customerStream(c.event.customerId), [c.event]);
    refusals.push({
      what: c.what,
      issues: E.isLeft(r) && r.left.type === 'InvalidAppend' ? (r.left.issues ?? []) : [],
    });
  }
  const kafka = createKafka({ brokers: testBrokers(), clientId: 'contract-spec', logger: silentLogger });
  const publisher = await connectKafkaPublisher({ kafka, logger: silentLogger, partitions: 3 });
  const topics: TopicConfig = { prefix: uniquePrefix('contract'), layout: 'per-area' };
  try {
    const result = await runRelay({
      name: 'contract',
      store: ledger.store,
      checkpoints: ledger.checkpoints,
      publisher,
      topics,
      logger: silentLogger,
      mode: 'catch-up',
    });
    if (E.isLeft(result)) throw new Error(`relay failed: ${JSON.stringify(result.left)}`);
  } finally {
    await publisher.close();
  }
  if (!kcatAvailable()) throw new Error('kcat is required (apt-get install kcat)');
  records = allTopics(topics).flatMap((topic) => kcatRead(testBrokers().join(','), topic));
}, 120_000);

afterAll(async () => {
  await ledger.close();
});

describe('no personal data on Kafka (canary, read back with kcat)', () => {
  it('every event type (and TicketOpened v1) was accepted with a personal value in each personal field', () => {
    const types = new Set(events.map((e) => e.type));
    expect([...types].sort()).toEqual(Object.keys(catalogue).sort());
    for (const event of events) {
      const def = catalogue[event.type as EventType] as EventDefinition;
      for (const field of def.pii) {
        const data = event.data as Record<string, unknown>;
        expect(Object.hasOwn(data, field), `${event.type}.${field}`).toBe(true);
        expect(String(data[field])).toMatch(new RegExp(`${CANARY}|\\+49 151`));
      }
    }
    expect(accepted).toBe(events.length);
  });

  it('every personal value in a field that reaches a key, a header or a non-personal field was refused at ingest, with a clear error', () => {
    expect(refusals.length).toBeGreaterThan(events.length * 8);
    for (const r of refusals) {
      expect(r.issues, r.what).not.toEqual([]);
      for (const issue of r.issues) expect(issue.message.length, r.what).toBeGreaterThan(10);
    }
    const customerIdIssue = refusals.find((r) => r.what.includes('customerId=') && r.what.includes('@'))!;
    expect(customerIdIssue.issues[0]!.message).toMatch(
      /looks like an e-mail address.*CRM_LEDGER_CUSTOMER_ID_POLICY=any/,
    );
  });

  it('every accepted event is on the broker, and no personal value is in any key, header or value', () => {
    expect(records).toHaveLength(accepted);
    const leaks: string[] = [];
    for (const r of records) {
      const texts = [r.key ?? '', r.payload ?? '', ...r.headers.flat()];
      for (const text of texts)
        if (text.toLowerCase().includes(CANARY)) leaks.push(`${r.topic}@${r.offset}: ${text}`);
      // no contact detail shapes either (the canary's phones and e-mails)
      for (const text of texts)
        if (/@example\.com|\+49 151/.test(text)) leaks.push(`${r.topic}@${r.offset}: ${text}`);
    }
    expect(leaks).toEqual([]);
  });
});

describe('every message read with kcat honours the contract: key, headers, schema', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addKeyword('x-personal');
  for (const file of fs.readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SCHEMAS, file), 'utf8')) as object);
  }

  it('key = customer id; CloudEvents headers valid (SDK); the value matches the JSON Schema ce_dataschema names', () => {
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      const headers = Object.fromEntries(r.headers);
      expect(r.headers.map(([name]) => name).length, 'no repeated header').toBe(Object.keys(headers).length);
      const value = JSON.parse(r.payload!) as RawEnvelope;
      const original = events.find((e) => e.eventId === value.eventId)!;
      expect(r.key).toBe(original.customerId);
      expect(headers[HEADERS.id]).toBe(original.eventId);
      expect(headers[HEADERS.type]).toBe(original.type);
      expect(headers[HEADERS.subject]).toBe(original.customerId);
      expect(headers[HEADERS.schemaVersion]).toBe(String(original.schemaVersion));
      const message: KafkaMessage<Buffer> = {
        key: r.key!,
        value: Buffer.from(r.payload!),
        headers,
        body: r.payload,
      };
      const ce = CE.toEvent(message) as CloudEvent<unknown>;
      expect(ce.validate()).toBe(true);
      // personal fields are gone and named in ce_redacted
      const def = catalogue[original.type as EventType] as EventDefinition;
      const present = def.pii.filter((f) => Object.hasOwn(original.data as object, f));
      expect(headers[HEADERS.redacted]?.split(',') ?? []).toEqual(present);
      // the schema it names validates the value (personal fields are never on Kafka, even if required)
      const validate = ajv.getSchema(headers[HEADERS.dataSchema]!);
      expect(validate, headers[HEADERS.dataSchema]).toBeDefined();
      const schema = structuredClone(validate!.schema) as {
        properties: { data: { required?: string[]; oneOf?: { required?: string[] }[] } };
      };
      const dropRedacted = (s: { required?: string[] }) => {
        if (s.required) s.required = s.required.filter((f) => !present.includes(f));
      };
      dropRedacted(schema.properties.data);
      schema.properties.data.oneOf?.forEach(dropRedacted);
      const ok = ajv.validate({ ...schema, $id: undefined }, value);
      expect(ok ? [] : ajv.errors, `${original.type}`).toEqual([]);
    }
  });
});
