#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { allTopics, createKafka, startEventConsumer, topicOfArea, type TopicConfig } from '@crm-ledger/kafka';
import { emptyView, openTicketsHandlers, snapshot } from './open-tickets.js';

const HELP = `Usage: crm-example-consumer [--until-caught-up] [--help]

An example downstream service: reads the service-area topic from the beginning and keeps the open support tickets
per customer in memory (it commits no offsets: its view is rebuilt at each start). Logs a summary every 10 s.

  --until-caught-up  print the view as JSON on stdout once the topic is read to its end, and exit
  -h, --help         this help

Configuration (environment):
  KAFKA_BROKERS       bootstrap brokers, comma-separated host:port (required)
  KAFKA_TOPIC_PREFIX  prefix of the relay's topics (default crm)
  KAFKA_TOPIC_LAYOUT  per-area (default) or single, as the relay's RELAY_TOPIC_LAYOUT
  KAFKA_GROUP_ID      consumer group (default crm-example-open-tickets)
  LOG_LEVEL           pino level (default info)`;

const Env = z.object({
  KAFKA_BROKERS: z
    .string({ error: 'is required' })
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).min(1)),
  KAFKA_TOPIC_PREFIX: z.string().min(1).default('crm'),
  KAFKA_TOPIC_LAYOUT: z.enum(['per-area', 'single']).default('per-area'),
  KAFKA_GROUP_ID: z.string().min(1).default('crm-example-open-tickets'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { 'until-caught-up': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.values.help === true) {
    console.log(HELP);
    return 0;
  }
  const env = Env.safeParse(
    Object.fromEntries(
      Object.keys(Env.shape).map((k) => [k, process.env[k] === '' ? undefined : process.env[k]]),
    ),
  );
  if (!env.success) {
    const lines = env.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    console.error(`crm-example-consumer: invalid configuration\n${lines.join('\n')}\n\n${HELP}`);
    return 2;
  }
  const config = env.data;
  const logger = pino({ name: 'crm-example-consumer', level: config.LOG_LEVEL });
  const topics: TopicConfig = { prefix: config.KAFKA_TOPIC_PREFIX, layout: config.KAFKA_TOPIC_LAYOUT };
  const topic = topicOfArea(topics, 'service');
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'crm-example-consumer', logger });

  const view = emptyView();
  const consumer = await startEventConsumer({
    kafka,
    groupId: config.KAFKA_GROUP_ID,
    topics: [topic],
    logger,
    handlers: openTicketsHandlers(view),
    fromBeginning: true,
    commitOffsets: false,
  });
  logger.info({ topic, of: allTopics(topics) }, 'consuming');

  if (args.values['until-caught-up'] === true) {
    await consumer.caughtUp();
    await consumer.stop();
    console.log(JSON.stringify({ stats: consumer.stats, ...snapshot(view) }));
    return 0;
  }
  const ticker = setInterval(() => {
    const { customers, tickets } = snapshot(view);
    logger.info({ customers, openTickets: tickets, ...consumer.stats }, 'open tickets');
  }, 10_000);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  clearInterval(ticker);
  await consumer.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
