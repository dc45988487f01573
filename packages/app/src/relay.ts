import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { match } from 'ts-pattern';
import type { z } from 'zod';
import { programSchema, type Deployment, type ServiceEnv } from '@crm-ledger/config';
import { isTransientError, retryForever, type CheckpointStore, type EventStore } from '@crm-ledger/core';
import {
  connectKafkaPublisher,
  createKafka,
  runActiveRelay,
  startInboundConsumer,
  type RelayFailure,
  type TopicConfig,
} from '@crm-ledger/kafka';
import type { ResubscribeInfo } from '@crm-ledger/eventstoredb';
import { openSqliteCheckpointStore } from '@crm-ledger/sqlite';
import { openLedgerStore } from './assemble.js';
import { CHECKPOINT_FILE, openCheckpointStore, openEventStore } from './stores.js';

/**
 * The stores of the Kafka relay: the configured event store (the log it publishes) and where it keeps its
 * checkpoint: `checkpointFile` when given (CRM_LEDGER_RELAY_CHECKPOINT_FILE); beside a SQLite ledger, the
 * SQLite file `relay-checkpoints.sqlite` of the data directory; beside EventStoreDB, PostgreSQL when the
 * deployment has it (shared by relay replicas), else that file.
 */
export async function openRelayStores(
  deployment: Deployment,
  options: {
    readonly checkpointFile?: string | undefined;
    readonly onResubscribe?: (info: ResubscribeInfo) => void;
  } = {},
): Promise<{ readonly store: EventStore; readonly checkpoints: CheckpointStore }> {
  const checkpoints =
    options.checkpointFile !== undefined
      ? openSqliteCheckpointStore(options.checkpointFile)
      : deployment.eventStore.kind === 'sqlite'
        ? openSqliteCheckpointStore(path.join(deployment.dataDir, CHECKPOINT_FILE))
        : await openCheckpointStore(deployment);
  const store = openEventStore(deployment.eventStore, {
    ...(options.onResubscribe === undefined ? {} : { onResubscribe: options.onResubscribe }),
  });
  return { store, checkpoints };
}

/** The relay's own settings (and Kafka's), as `crm-relay` parses them (SETTINGS of @crm-ledger/config). */
export const RelayEnv = programSchema('relay');
export type RelaySettings = z.output<typeof RelayEnv>;

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

/**
 * Runs the Kafka relay process over the stores of `deployment` until SIGTERM/SIGINT (or, in `catch-up` mode,
 * the end of the log). Resolves with the exit code: 0 stopped or caught up, 1 an event could not be published
 * or Kafka could not be reached.
 */
export async function runRelay(
  settings: RelaySettings,
  deployment: Deployment,
  logger: Logger,
): Promise<number> {
  const topics: TopicConfig = {
    prefix: settings.CRM_LEDGER_KAFKA_TOPIC_PREFIX,
    layout: settings.CRM_LEDGER_KAFKA_TOPIC_LAYOUT,
  };

  const { store, checkpoints } = await openRelayStores(deployment, {
    checkpointFile: settings.CRM_LEDGER_RELAY_CHECKPOINT_FILE,
    onResubscribe: (info) => logger.warn(info, 'event store subscription failed: resubscribing'),
  });
  const kafka = createKafka({
    brokers: settings.CRM_LEDGER_KAFKA_BROKERS,
    clientId: 'crm-ledger-relay',
    logger: logger.child({ component: 'kafkajs' }),
    retries: settings.CRM_LEDGER_RELAY_RETRIES,
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
      partitions: settings.CRM_LEDGER_KAFKA_PARTITIONS,
      retries: settings.CRM_LEDGER_RELAY_RETRIES,
    });
    try {
      // One active relay per checkpoint: a second one waits as a standby and takes over when this one dies.
      // A transient failure (the broker, the ledger or the checkpoint store unreachable for a while) restarts
      // the relay from its checkpoint after a capped, jittered backoff, forever; an unpublishable event or a
      // permanent error stops it (exit 1), never skipping an event.
      const result = await retryForever(
        async ({ healthy }) => {
          const r = await runActiveRelay({
            name: settings.CRM_LEDGER_RELAY_NAME,
            store,
            checkpoints,
            publisher,
            topics,
            logger,
            mode: settings.CRM_LEDGER_RELAY_MODE,
            batchSize: settings.CRM_LEDGER_RELAY_BATCH_SIZE,
            maxSendBytes: settings.CRM_LEDGER_RELAY_MAX_SEND_BYTES,
            signal: controller.signal,
            onProgress: (p) => {
              progress = p;
              healthy();
            },
          });
          if (E.isLeft(r) && r.left.type !== 'UnpublishableEvent' && isTransientError(r.left.cause))
            throw new RelayRetry(r.left);
          return r;
        },
        {
          name: 'relay',
          signal: controller.signal,
          isTransient: (e) => e instanceof RelayRetry,
          onRetry: (err, attempts, delayMs) =>
            logger.warn(
              {
                failure: (err as RelayRetry).failure.type,
                err: (err as RelayRetry).failure.cause,
                attempts,
                delayMs,
              },
              'relay: transient failure, retrying from the checkpoint',
            ),
        },
      ).catch((e: unknown) => {
        if (e instanceof RelayRetry) return E.left<RelayFailure>(e.failure);
        throw e;
      });
      if (result === undefined) return 0;
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

/** A relay failure worth retrying, carried through `retryForever`. */
class RelayRetry extends Error {
  constructor(readonly failure: Exclude<RelayFailure, { type: 'UnpublishableEvent' }>) {
    super(failure.message);
    this.name = 'RelayRetry';
  }
}

/** The inbound consumer's own settings (and Kafka's), as `crm-inbound` parses them (SETTINGS of @crm-ledger/config). */
export const InboundEnv = programSchema('inbound');
export type InboundSettings = z.output<typeof InboundEnv>;

/**
 * Runs the inbound consumer until SIGTERM/SIGINT: appends what other systems publish on the inbound topic to the
 * event store the configuration picks (SQLite or EventStoreDB), opened as a writer like the ingest API's
 * (personal fields encrypted with the customer's key; `appendInbound` validates every event against the
 * catalogue first). Resolves with the exit code: 0 stopped, 1 the consumer failed.
 */
export async function runInbound(
  settings: InboundSettings,
  config: ServiceEnv,
  logger: Logger,
): Promise<number> {
  const topic = settings.CRM_LEDGER_INBOUND_TOPIC ?? `${settings.CRM_LEDGER_KAFKA_TOPIC_PREFIX}.inbound`;
  const deadLetterTopic = settings.CRM_LEDGER_INBOUND_DEAD_LETTER_TOPIC ?? `${topic}.dlq`;
  const kafka = createKafka({
    brokers: settings.CRM_LEDGER_KAFKA_BROKERS,
    clientId: 'crm-ledger-inbound',
    logger,
  });
  const { store } = await openLedgerStore(config, path.resolve(settings.CRM_LEDGER_DATA_DIR), 'writer');
  try {
    const topics = await connectKafkaPublisher({
      kafka,
      logger,
      partitions: settings.CRM_LEDGER_KAFKA_PARTITIONS,
    });
    await topics.ensureTopics([topic, deadLetterTopic]);
    await topics.close();
    const inbound = await startInboundConsumer({
      kafka,
      store,
      groupId: settings.CRM_LEDGER_INBOUND_GROUP_ID,
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
