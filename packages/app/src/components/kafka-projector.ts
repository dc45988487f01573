import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Gauge } from 'prom-client';
import type { ServiceEnv } from '@crm-ledger/config';
import { StartupError, type ProjectionWrite, type StoredEvent } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import type { ProjectionLag } from '@crm-ledger/http-kit';
import {
  HEADERS,
  allTopics,
  createKafka,
  header,
  ledgerPositionOf,
  partitionCount,
  partitionEnds,
  partitionOfKey,
  startPartitionOwner,
  type PartitionBatch,
} from '@crm-ledger/kafka';
import { PostgresReadModelStore, isPartitionOffsetMoved } from '@crm-ledger/postgres';
import { PERSONAL_FIELDS_IN_VIEWS, PROJECTION_NAMES } from '@crm-ledger/projections';
import { customerHistoryReader, ensureProjections, ProjectionEngine } from '@crm-ledger/projector';
import type { LedgerComponent } from '../component.js';
import { heldDegraded, logHeld } from './held-log.js';
import type { ProcessSettings } from '../assemble.js';

/**
 * Test seam (CRM_LEDGER_TEST_KAFKA_COMMIT_PAUSE_MS, test-seams.ts): each batch's transaction waits this long
 * after writing its rows and offsets, before COMMIT, having logged `batch written, not committed`, so an
 * end-to-end spec can SIGKILL a projector mid-batch.
 */
let commitPauseMs = 0;
export function installKafkaCommitPause(ms: number): void {
  commitPauseMs = ms;
}

/** The batch was given up because the partition is no longer this member's: nothing was written. */
class Abandoned extends Error {
  constructor() {
    super('the partition was revoked: batch abandoned unwritten');
  }
}

/** A relay message as the engine's stored event: the envelope is the value, position and time are headers. */
function storedEventOf(message: PartitionBatch['messages'][number]): StoredEvent {
  const at = ledgerPositionOf(message);
  if (at === undefined || message.value === null)
    throw new Error(
      `${message.topic}[${message.partition}]@${message.offset}: no ce_globalposition/ce_recordedat header or no value: not a message of the crm-ledger relay`,
    );
  const event = JSON.parse(message.value.toString('utf8')) as RawEnvelope;
  return {
    globalPosition: at.globalPosition,
    recordedAt: at.recordedAt,
    streamName: customerStream(event.customerId),
    revision: 0,
    event,
    hash: '',
  };
}

/** True when the relay removed a personal field of this message that a view stores (PERSONAL_FIELDS_IN_VIEWS). */
function lacksStoredPersonalField(message: PartitionBatch['messages'][number], event: StoredEvent): boolean {
  const fields = PERSONAL_FIELDS_IN_VIEWS[event.event.type];
  if (fields === undefined) return false;
  const redacted = (header(message, HEADERS.redacted) ?? '').split(',');
  return fields.some((f) => redacted.includes(f));
}

/**
 * The projector in Kafka mode (CRM_LEDGER_PROJECTOR_SOURCE=kafka, docs/deploy.md): a member of the consumer
 * group CRM_LEDGER_PROJECTOR_GROUP_ID reading the relay's `single` topic. For each partition the group gives
 * it, it builds every view for the customers of that partition: one engine per partition, opened at the
 * partition's offset and global position stored in PostgreSQL (`_partition_offsets`), each batch's rows,
 * offsets and history row written in one transaction fenced by the stored offset.
 */
export const kafkaProjectorComponent = (config: ServiceEnv, settings: ProcessSettings): LedgerComponent => ({
  name: 'projector',
  async start(ctx) {
    const log = ctx.logger.child({ component: 'projector', mode: 'kafka' });
    const refuse = (why: string): never => {
      throw new StartupError('configuration', `CRM_LEDGER_PROJECTOR_SOURCE=kafka: ${why}`);
    };
    if (config.CRM_LEDGER_KAFKA_BROKERS.length === 0) refuse('needs CRM_LEDGER_KAFKA_BROKERS');
    if (config.CRM_LEDGER_KAFKA_TOPIC_LAYOUT !== 'single')
      refuse(
        "needs CRM_LEDGER_KAFKA_TOPIC_LAYOUT=single (the views fold each customer's events of every area in ledger order, which only the single topic keeps)",
      );
    if (ctx.openReadModel === undefined) refuse('needs CRM_LEDGER_READ_MODEL_STORE=postgres');
    const opened = await ctx.openReadModel!();
    if (!(opened instanceof PostgresReadModelStore)) {
      await opened.close();
      return refuse('needs CRM_LEDGER_READ_MODEL_STORE=postgres');
    }
    const readModel = opened;
    const stale = await ensureProjections(readModel);
    if (stale.length > 0) {
      await readModel.close();
      refuse(
        `the views [${stale.join(', ')}] in schema ${readModel.schema} were built by another version: build them into a new schema with a new group id (docs/deploy.md, "Rebuilds in Kafka mode")`,
      );
    }
    const group = settings.CRM_LEDGER_PROJECTOR_GROUP_ID;
    const [topic] = allTopics({
      prefix: config.CRM_LEDGER_KAFKA_TOPIC_PREFIX,
      layout: config.CRM_LEDGER_KAFKA_TOPIC_LAYOUT,
    });
    const kafka = createKafka({
      brokers: config.CRM_LEDGER_KAFKA_BROKERS,
      clientId: `${config.CRM_LEDGER_KAFKA_CLIENT_ID}-projector`,
      logger: log,
    });
    const partitions = await partitionCount(kafka, topic!);
    const instance = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const readCustomer = customerHistoryReader(ctx.store);
    const onSkipped = (e: StoredEvent): void =>
      log.warn(
        { position: e.globalPosition, eventType: e.event.type, schemaVersion: e.event.schemaVersion },
        'skipped an event this version cannot read',
      );

    /** One engine per owned partition, opened when the partition's offset is loaded (each assignment). */
    const engines = new Map<number, { engine: ProjectionEngine; nextOffset: number }>();

    const loadOffset = async (t: string, partition: number): Promise<number> => {
      engines.delete(partition);
      const stored = (await readModel.partitionOffsets(group, t)).get(partition) ?? {
        nextOffset: 0,
        position: 0,
      };
      const engine = await ProjectionEngine.open({
        readModel,
        projections: PROJECTION_NAMES,
        target: 'live',
        startAt: stored.position,
        owns: (customerId) => partitionOfKey(customerId, partitions) === partition,
        readCustomer,
        onSkipped,
        onHeld: logHeld(log),
      });
      // Retries asked while nobody owned the partition (`crm-ledger held retry`): fenced, no offset moved.
      await engine
        .retryPending((writes) =>
          readModel.applyPartitionBatch({
            group,
            topic: t,
            partition,
            fromOffset: stored.nextOffset,
            toOffset: stored.nextOffset,
            position: stored.position,
            events: 0,
            instance,
            writes,
          }),
        )
        .catch((error: unknown) => {
          if (!isPartitionOffsetMoved(error)) throw error;
        });
      engines.set(partition, { engine, nextOffset: stored.nextOffset });
      return stored.nextOffset;
    };

    const handleBatch = async (batch: PartitionBatch): Promise<boolean> => {
      const open = engines.get(batch.partition);
      if (open === undefined || open.nextOffset !== batch.fromOffset) return false;
      const events = batch.messages.map(storedEventOf);
      // The few events whose personal field a view stores come from the event store (as in the log mode: the
      // stored value, ciphertext with crypto-shredding), never from Kafka, which does not carry them.
      const fromStore = new Map<string, number[]>();
      events.forEach((e, i) => {
        if (!lacksStoredPersonalField(batch.messages[i]!, e)) return;
        const list = fromStore.get(e.event.customerId) ?? [];
        list.push(i);
        fromStore.set(e.event.customerId, list);
      });
      for (const [customerId, indexes] of fromStore) {
        const until = Math.max(...indexes.map((i) => events[i]!.globalPosition));
        const byId = new Map((await readCustomer(customerId, until)).map((s) => [s.event.eventId, s]));
        for (const i of indexes) {
          const stored = byId.get(events[i]!.event.eventId);
          if (stored === undefined)
            throw new Error(
              `event ${events[i]!.event.eventId} (position ${events[i]!.globalPosition}) is on Kafka but not (yet) in the event store this projector reads`,
            );
          events[i] = stored;
        }
      }
      const position = Math.max(open.engine.position, ...events.map((e) => e.globalPosition));
      const commit = async (writes: readonly ProjectionWrite[]): Promise<void> => {
        if (!batch.stillOwned()) throw new Abandoned();
        await readModel.applyPartitionBatch({
          group,
          topic: batch.topic,
          partition: batch.partition,
          fromOffset: batch.fromOffset,
          toOffset: batch.toOffset,
          position,
          events: events.length,
          instance,
          writes,
          ...(commitPauseMs > 0
            ? {
                beforeCommit: async () => {
                  log.info(
                    {
                      topic: batch.topic,
                      partition: batch.partition,
                      from: batch.fromOffset,
                      to: batch.toOffset,
                    },
                    'batch written, not committed',
                  );
                  await new Promise((r) => setTimeout(r, commitPauseMs));
                },
              }
            : {}),
        });
      };
      try {
        const report = await open.engine.apply(events, commit);
        open.nextOffset = batch.toOffset;
        log.debug(
          {
            topic: batch.topic,
            partition: batch.partition,
            from: batch.fromOffset,
            to: batch.toOffset,
            events: report.events,
            position,
            rows: report.rowsWritten,
            lag: Math.max(0, batch.highWatermark - batch.toOffset),
          },
          'applied',
        );
        return true;
      } catch (error) {
        if (error instanceof Abandoned || isPartitionOffsetMoved(error)) {
          log.info(
            {
              topic: batch.topic,
              partition: batch.partition,
              from: batch.fromOffset,
              reason: error.message,
            },
            'batch not applied: resuming the partition from its stored offset',
          );
          if (engines.get(batch.partition) === open) engines.delete(batch.partition);
          return false;
        }
        throw error;
      }
    };

    const lag = async (): Promise<ProjectionLag> => {
      const [ends, stored, head] = await Promise.all([
        partitionEnds(kafka, topic!),
        readModel.partitionOffsets(group, topic!),
        ctx.store.headPosition(),
      ]);
      const rows = [...ends.entries()]
        .sort(([a], [b]) => a - b)
        .map(([partition, endOffset]) => {
          const nextOffset = stored.get(partition)?.nextOffset ?? 0;
          return {
            topic: topic!,
            partition,
            nextOffset,
            endOffset,
            lag: Math.max(0, endOffset - nextOffset),
          };
        });
      const behind = rows.reduce((sum, r) => sum + r.lag, 0);
      return { head, views: PROJECTION_NAMES.map((view) => ({ view, events: behind })), partitions: rows };
    };
    new Gauge({
      name: 'crm_ledger_projection_partition_lag_messages',
      help: 'Kafka mode: messages of each partition not yet applied to the views (end offset minus the stored next offset)',
      labelNames: ['topic', 'partition'],
      registers: [ctx.metrics],
      async collect() {
        for (const r of (await lag()).partitions ?? [])
          this.set({ topic: r.topic, partition: String(r.partition) }, r.lag);
      },
    });

    const owner = await startPartitionOwner({
      kafka,
      groupId: group,
      topics: [topic!],
      logger: log,
      loadOffset,
      handleBatch,
      concurrency: settings.CRM_LEDGER_PROJECTOR_CONCURRENCY,
      sessionTimeoutMs: settings.CRM_LEDGER_PROJECTOR_SESSION_TIMEOUT_MS,
      fetchMaxBytesPerPartition: settings.CRM_LEDGER_PROJECTOR_FETCH_MAX_BYTES,
      heartbeatIntervalMs: Math.max(500, Math.floor(settings.CRM_LEDGER_PROJECTOR_SESSION_TIMEOUT_MS / 10)),
      onAssigned: () => engines.clear(),
    });
    const stopped = owner.done.catch((err: unknown) => {
      log.error({ err }, 'projector stopped: a permanent error (see /status)');
    });
    return {
      description: `views in PostgreSQL (service, success, experience, value), from Kafka topic ${topic} in consumer group ${group} (${partitions} partitions)`,
      lag,
      degraded: () => heldDegraded(readModel),
      async stop() {
        await owner.stop();
        await stopped;
        await readModel.close();
      },
    };
  },
});
