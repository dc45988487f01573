#!/usr/bin/env node
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { match } from 'ts-pattern';
import {
  connectKafkaPublisher,
  createKafka,
  runRelay,
  type RelayFailure,
  type TopicConfig,
} from '@crm-ledger/kafka';
import { deploymentOf, loadServiceConfig, loggerOptions } from '@crm-ledger/config';
import type { CheckpointStore, EventStore } from '@crm-ledger/core';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { openCheckpointStore, openEventStore } from '@crm-ledger/stores';
import { helpText, parseConfig } from './config.js';

/** What to log about a failure: positions and messages, never event content. */
function describeFailure(failure: RelayFailure): { detail: object; message: string } {
  return match(failure)
    .with({ type: 'UnpublishableEvent' }, (f) => ({
      detail: { position: f.globalPosition, eventId: f.eventId, eventType: f.eventType },
      message: `event cannot be published: ${f.reason}`,
    }))
    .with({ type: 'PublishFailed' }, (f) => ({
      detail: { fromPosition: f.fromPosition, toPosition: f.toPosition, error: f.message },
      message: 'the broker did not acknowledge the events after all retries',
    }))
    .with({ type: 'TopicSetupFailed' }, (f) => ({
      detail: { error: f.message },
      message: 'cannot create the topics',
    }))
    .with({ type: 'CheckpointFailed' }, (f) => ({
      detail: { position: f.position, error: f.message },
      message: 'cannot load or save the checkpoint',
    }))
    .with({ type: 'LedgerReadFailed' }, (f) => ({
      detail: { error: f.message },
      message: 'cannot read the ledger',
    }))
    .exhaustive();
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return 0;
  }
  const parsed = parseConfig(process.env);
  if (E.isLeft(parsed)) {
    console.error(
      `crm-relay: invalid configuration\n${parsed.left.map((l) => `  ${l}`).join('\n')}\n\n${helpText()}`,
    );
    return 2;
  }
  const config = parsed.right;
  const logger = pino(loggerOptions('crm-relay', config.CRM_LEDGER_LOG_LEVEL));
  const topics: TopicConfig = {
    prefix: config.CRM_LEDGER_KAFKA_TOPIC_PREFIX,
    layout: config.CRM_LEDGER_KAFKA_TOPIC_LAYOUT,
  };

  let store: EventStore;
  let checkpoints: CheckpointStore;
  if (process.env.CRM_LEDGER_EVENT_STORE === 'eventstoredb') {
    // The shared configuration (docs/configuration.md) picks EventStoreDB; checkpoints then live in
    // PostgreSQL when the deployment has it (shared by relay replicas), else in the data directory.
    const shared = loadServiceConfig(process.env);
    if (E.isLeft(shared)) {
      console.error(`crm-relay: invalid configuration\n${shared.left.map((l) => `  ${l}`).join('\n')}`);
      return 2;
    }
    const deployment = deploymentOf(shared.right);
    store = openEventStore(deployment.eventStore, {
      onResubscribe: (info) => logger.warn(info, 'event store subscription failed: resubscribing'),
    });
    checkpoints =
      process.env.CRM_LEDGER_RELAY_CHECKPOINT_FILE === undefined
        ? await openCheckpointStore(deployment)
        : openSqliteCheckpointStore(config.checkpointFile);
  } else {
    store = openSqliteEventStore({ file: config.ledgerFile });
    checkpoints = openSqliteCheckpointStore(config.checkpointFile);
  }
  const kafka = createKafka({
    brokers: config.CRM_LEDGER_KAFKA_BROKERS,
    clientId: 'crm-ledger-relay',
    logger: logger.child({ component: 'kafkajs' }),
    retries: config.CRM_LEDGER_RELAY_RETRIES,
  });
  const controller = new AbortController();
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping after the send in progress');
    controller.abort();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  let progress = { position: 0, published: 0 };
  let last = { at: Date.now(), published: 0 };
  const ticker = setInterval(() => {
    void store.headPosition().then((head) => {
      const now = Date.now();
      const rate = ((progress.published - last.published) * 1000) / Math.max(1, now - last.at);
      last = { at: now, published: progress.published };
      logger.info(
        { ...progress, head, lag: head - progress.position, eventsPerSecond: Math.round(rate) },
        'progress',
      );
    });
  }, 10_000);
  ticker.unref();

  try {
    const publisher = await connectKafkaPublisher({
      kafka,
      logger,
      partitions: config.CRM_LEDGER_KAFKA_PARTITIONS,
      retries: config.CRM_LEDGER_RELAY_RETRIES,
    });
    try {
      const result = await runRelay({
        name: config.CRM_LEDGER_RELAY_NAME,
        store,
        checkpoints,
        publisher,
        topics,
        logger,
        mode: config.CRM_LEDGER_RELAY_MODE,
        batchSize: config.CRM_LEDGER_RELAY_BATCH_SIZE,
        maxSendBytes: config.CRM_LEDGER_RELAY_MAX_SEND_BYTES,
        signal: controller.signal,
        onProgress: (p) => {
          progress = p;
        },
      });
      if (E.isLeft(result)) {
        const { detail, message } = describeFailure(result.left);
        logger.fatal({ failure: result.left.type, checkpoint: progress.position, ...detail }, message);
        return 1;
      }
      return 0;
    } finally {
      await publisher.close().catch(() => undefined);
    }
  } catch (error) {
    logger.fatal({ err: error }, 'cannot connect to Kafka');
    return 1;
  } finally {
    clearInterval(ticker);
    await store.close();
    await checkpoints.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
