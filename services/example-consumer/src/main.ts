#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import * as E from 'fp-ts/lib/Either.js';
import { environmentHelp, loadProgramConfig, loggerOptions } from '@crm-ledger/config';
import { allTopics, createKafka, startEventConsumer, topicOfArea, type TopicConfig } from '@crm-ledger/kafka';
import { emptyView, openTicketsHandlers, snapshot } from './open-tickets.js';

const HELP = `Usage: crm-example-consumer [--until-caught-up] [--help]

An example downstream service: reads the service-area topic (tickets) and the relationship-area topic (erasures) from
the beginning and keeps the open support tickets per customer in memory, forgetting erased customers (it commits no
offsets: its view is rebuilt at each start). Logs a summary every 10 s.

  --until-caught-up  print the view as JSON on stdout once the topic is read to its end, and exit
  -h, --help         this help

${environmentHelp('example')}`;

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
  const loaded = loadProgramConfig('example', process.env);
  if (E.isLeft(loaded)) {
    const lines = loaded.left.map((l) => `  ${l}`).join('\n');
    console.error(`crm-example-consumer: invalid configuration\n${lines}\n\n${HELP}`);
    return 2;
  }
  const config = loaded.right;
  const logger = pino(loggerOptions('crm-example-consumer', config.CRM_LEDGER_LOG_LEVEL));
  const topics: TopicConfig = {
    prefix: config.CRM_LEDGER_KAFKA_TOPIC_PREFIX,
    layout: config.CRM_LEDGER_KAFKA_TOPIC_LAYOUT,
  };
  // Tickets are in the service area, CustomerErased in the relationship area: one topic in the single layout, two
  // in the per-area layout (then without an order between them: the view remembers who was erased).
  const subscribed = [...new Set([topicOfArea(topics, 'service'), topicOfArea(topics, 'relationship')])];
  const kafka = createKafka({
    brokers: config.CRM_LEDGER_KAFKA_BROKERS,
    clientId: 'crm-example-consumer',
    logger,
  });

  const view = emptyView();
  const consumer = await startEventConsumer({
    kafka,
    groupId: config.CRM_LEDGER_EXAMPLE_GROUP_ID,
    topics: subscribed,
    logger,
    handlers: openTicketsHandlers(view),
    fromBeginning: true,
    commitOffsets: false,
  });
  logger.info({ topics: subscribed, of: allTopics(topics) }, 'consuming');

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
