#!/usr/bin/env node
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { environmentHelp, loadProgramConfig, loadServiceConfig, loggerOptions } from '@crm-ledger/config';
import { runInbound } from '@crm-ledger/app';

const HELP = `Usage: crm-inbound [--help]

Appends the interactions other systems publish on an inbound Kafka topic into the ledger, idempotently (by event
id), and sends each invalid message to a dead-letter topic with the validation issues in its headers
(dlq_reason, dlq_issues, dlq_source_topic, dlq_source_partition, dlq_source_offset). Values are event envelopes as
JSON, validated with the catalogue at their declared schema version. Stops on SIGTERM/SIGINT.

${environmentHelp('inbound')}`;

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
  const loaded = loadProgramConfig('inbound', process.env);
  if (E.isLeft(loaded)) {
    console.error(
      `crm-inbound: invalid configuration\n${loaded.left.map((l) => `  ${l}`).join('\n')}\n\n${HELP}`,
    );
    return 2;
  }
  // The event store the configuration chose (SQLite or EventStoreDB), opened by the root as the ingest API opens
  // it. Kafka is configured above: the shared schema need not read it.
  const shared = loadServiceConfig({ ...process.env, CRM_LEDGER_KAFKA_BROKERS: 'off' });
  if (E.isLeft(shared)) {
    console.error(
      `crm-inbound: invalid configuration\n${shared.left.map((l) => `  ${l}`).join('\n')}\n\n${HELP}`,
    );
    return 2;
  }
  const logger = pino(loggerOptions('crm-inbound', loaded.right.CRM_LEDGER_LOG_LEVEL));
  return runInbound(loaded.right, shared.right, logger);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
