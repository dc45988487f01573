#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { z } from 'zod';
import { LedgerEnv, loadConfig, loggerOptions } from '@crm-ledger/config';
import {
  KAFKA_ENV_HELP,
  KafkaEnv,
  connectKafkaPublisher,
  createKafka,
  startInboundConsumer,
} from '@crm-ledger/kafka';
import { deploymentOf, ServiceEnv } from '@crm-ledger/config';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { openVault, withEncryption } from '@crm-ledger/stores';

const InboundEnv = LedgerEnv.pick({
  CRM_LEDGER_DATA_DIR: true,
  CRM_LEDGER_LOG_LEVEL: true,
  CRM_LEDGER_SQLITE_SYNCHRONOUS: true,
})
  .extend(
    ServiceEnv.pick({
      CRM_LEDGER_KEY_STORE: true,
      CRM_LEDGER_KEY_STORE_SCHEMA: true,
      CRM_LEDGER_MASTER_KEY: true,
      CRM_LEDGER_POSTGRES_URL: true,
    }).shape,
  )
  .extend(KafkaEnv.shape)
  .extend({
    CRM_LEDGER_INBOUND_TOPIC: z.string().trim().min(1).optional(),
    CRM_LEDGER_INBOUND_DEAD_LETTER_TOPIC: z.string().trim().min(1).optional(),
    CRM_LEDGER_INBOUND_GROUP_ID: z.string().trim().min(1).default('crm-ledger-inbound'),
  });

const HELP = `Usage: crm-inbound [--help]

Appends the interactions other systems publish on an inbound Kafka topic into the ledger, idempotently (by event
id), and sends each invalid message to a dead-letter topic with the validation issues in its headers
(dlq_reason, dlq_issues, dlq_source_topic, dlq_source_partition, dlq_source_offset). Values are event envelopes as
JSON, validated with the catalogue at their declared schema version. Stops on SIGTERM/SIGINT.

Configuration (environment):
  CRM_LEDGER_DATA_DIR                    data directory; the ledger is its ledger.sqlite (default ./.data)
  CRM_LEDGER_SQLITE_SYNCHRONOUS          full (default) or normal
  CRM_LEDGER_LOG_LEVEL                   pino level (default info)
  CRM_LEDGER_KEY_STORE                   sqlite (keys.db in the data directory, default) or postgres
  CRM_LEDGER_KEY_STORE_SCHEMA            PostgreSQL schema of the keys (default crm_ledger_keys)
  CRM_LEDGER_MASTER_KEY                  base64 of 32 bytes; default: <data dir>/master.key (created 0600)
${Object.entries(KAFKA_ENV_HELP)
  .map(([k, v]) => `  ${k.padEnd(37)}  ${v}`)
  .join('\n')}
  CRM_LEDGER_INBOUND_TOPIC               default <prefix>.inbound
  CRM_LEDGER_INBOUND_DEAD_LETTER_TOPIC   default <inbound topic>.dlq
  CRM_LEDGER_INBOUND_GROUP_ID            default crm-ledger-inbound`;

/** The settings deploymentOf needs, as the strings ServiceEnv parses (undefined ones left out). */
function pickDefined(config: z.output<typeof InboundEnv>): Record<string, string> {
  const out: Record<string, string> = {
    CRM_LEDGER_DATA_DIR: config.CRM_LEDGER_DATA_DIR,
    CRM_LEDGER_SQLITE_SYNCHRONOUS: config.CRM_LEDGER_SQLITE_SYNCHRONOUS,
    CRM_LEDGER_KEY_STORE: config.CRM_LEDGER_KEY_STORE,
    CRM_LEDGER_KEY_STORE_SCHEMA: config.CRM_LEDGER_KEY_STORE_SCHEMA,
  };
  if (config.CRM_LEDGER_POSTGRES_URL !== undefined)
    out.CRM_LEDGER_POSTGRES_URL = config.CRM_LEDGER_POSTGRES_URL;
  return out;
}

async function main(): Promise<number> {
  try {
    if (parseArgs({ options: { help: { type: 'boolean', short: 'h' } } }).values.help === true) {
      console.log(HELP);
      return 0;
    }
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const loaded = loadConfig(InboundEnv, process.env);
  if (E.isLeft(loaded)) {
    console.error(
      `crm-inbound: invalid configuration\n${loaded.left.map((l) => `  ${l}`).join('\n')}\n\n${HELP}`,
    );
    return 2;
  }
  const config = loaded.right;
  const topic = config.CRM_LEDGER_INBOUND_TOPIC ?? `${config.CRM_LEDGER_KAFKA_TOPIC_PREFIX}.inbound`;
  const deadLetterTopic = config.CRM_LEDGER_INBOUND_DEAD_LETTER_TOPIC ?? `${topic}.dlq`;
  const logger = pino(loggerOptions('crm-inbound', config.CRM_LEDGER_LOG_LEVEL));
  const kafka = createKafka({
    brokers: config.CRM_LEDGER_KAFKA_BROKERS,
    clientId: 'crm-ledger-inbound',
    logger,
  });
  if (config.CRM_LEDGER_KEY_STORE === 'postgres' && config.CRM_LEDGER_POSTGRES_URL === undefined) {
    console.error('crm-inbound: CRM_LEDGER_POSTGRES_URL is required when CRM_LEDGER_KEY_STORE=postgres');
    return 2;
  }
  // personal fields are encrypted with the customer's key before they are stored (crypto-shredding)
  const opened = await openVault(
    deploymentOf(ServiceEnv.parse({ ...pickDefined(config), CRM_LEDGER_KAFKA_BROKERS: 'off' })),
    config.CRM_LEDGER_MASTER_KEY,
  );
  const store = withEncryption(
    openSqliteEventStore({
      file: path.join(path.resolve(config.CRM_LEDGER_DATA_DIR), 'ledger.sqlite'),
      synchronous: config.CRM_LEDGER_SQLITE_SYNCHRONOUS,
      // appendInbound validates every event against the catalogue first
      validation: 'envelope',
    }),
    opened,
    { validate: false },
  );
  try {
    const topics = await connectKafkaPublisher({
      kafka,
      logger,
      partitions: config.CRM_LEDGER_KAFKA_PARTITIONS,
    });
    await topics.ensureTopics([topic, deadLetterTopic]);
    await topics.close();
    const inbound = await startInboundConsumer({
      kafka,
      store,
      groupId: config.CRM_LEDGER_INBOUND_GROUP_ID,
      topic,
      deadLetterTopic,
      logger,
    });
    logger.info({ topic, deadLetterTopic }, 'consuming');
    const ticker = setInterval(() => logger.info({ ...inbound.stats }, 'progress'), 10_000);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    clearInterval(ticker);
    await inbound.stop();
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, 'inbound consumer failed');
    return 1;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
