#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { connectKafkaPublisher, createKafka, startInboundConsumer } from '@crm-ledger/kafka';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';

const HELP = `Usage: crm-inbound [--help]

Appends the interactions other systems publish on an inbound Kafka topic into the ledger, idempotently (by event
id), and sends each invalid message to a dead-letter topic with the validation issues in its headers
(dlq_reason, dlq_issues, dlq_source_topic, dlq_source_partition, dlq_source_offset). Values are event envelopes as
JSON, validated with the catalogue at their declared schema version. Stops on SIGTERM/SIGINT.

Configuration (environment):
  LEDGER_FILE                 path of the SQLite ledger (required)
  KAFKA_BROKERS               bootstrap brokers, comma-separated host:port (required)
  INBOUND_TOPIC               default crm.inbound
  INBOUND_DEAD_LETTER_TOPIC   default <INBOUND_TOPIC>.dlq
  INBOUND_PARTITIONS          partitions if the topics must be created (default 6)
  KAFKA_GROUP_ID              default crm-ledger-inbound
  LOG_LEVEL                   pino level (default info)`;

const Env = z.object({
  LEDGER_FILE: z.string({ error: 'is required' }).min(1),
  KAFKA_BROKERS: z
    .string({ error: 'is required' })
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).min(1)),
  INBOUND_TOPIC: z.string().min(1).default('crm.inbound'),
  INBOUND_DEAD_LETTER_TOPIC: z.string().min(1).optional(),
  INBOUND_PARTITIONS: z.coerce.number().int().positive().default(6),
  KAFKA_GROUP_ID: z.string().min(1).default('crm-ledger-inbound'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

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
  const env = Env.safeParse(
    Object.fromEntries(
      Object.keys(Env.shape).map((k) => [k, process.env[k] === '' ? undefined : process.env[k]]),
    ),
  );
  if (!env.success) {
    const lines = env.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    console.error(`crm-inbound: invalid configuration\n${lines.join('\n')}\n\n${HELP}`);
    return 2;
  }
  const config = env.data;
  const deadLetterTopic = config.INBOUND_DEAD_LETTER_TOPIC ?? `${config.INBOUND_TOPIC}.dlq`;
  const logger = pino({ name: 'crm-inbound', level: config.LOG_LEVEL });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'crm-ledger-inbound', logger });
  const store = openSqliteEventStore({ file: config.LEDGER_FILE });
  try {
    const topics = await connectKafkaPublisher({ kafka, logger, partitions: config.INBOUND_PARTITIONS });
    await topics.ensureTopics([config.INBOUND_TOPIC, deadLetterTopic]);
    await topics.close();
    const inbound = await startInboundConsumer({
      kafka,
      store,
      groupId: config.KAFKA_GROUP_ID,
      topic: config.INBOUND_TOPIC,
      deadLetterTopic,
      logger,
    });
    logger.info({ topic: config.INBOUND_TOPIC, deadLetterTopic }, 'consuming');
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
