import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  bindCheckpointsToStore,
  type CheckpointStore,
  type DigestStore,
  type EventStore,
  type ReadModelStore,
} from '@crm-ledger/core';
import type { Deployment, EventStoreChoice, ReadModelChoice } from '@crm-ledger/config';
import {
  openPostgresCheckpointStore,
  openPostgresReadModelStore,
  scratchSchemaOf,
  sweepScratchSchemas,
} from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import {
  openEventStoreDbStore,
  type ForeignRecord,
  type ResubscribeInfo,
  type SubscriptionStatus,
} from '@crm-ledger/eventstoredb';
import { openSqliteCheckpointStore, openSqliteDigestStore, openSqliteEventStore } from '@crm-ledger/sqlite';

export interface EventStoreOpenOptions {
  /**
   * `'envelope'` when the caller validated every event against the catalogue already (the ingest API, the
   * importers), `'catalogue'` (default) otherwise.
   */
  readonly validation?: 'catalogue' | 'envelope';
  /** EventStoreDB only: told about each resubscription of a subscription (for the service's logger). */
  readonly onResubscribe?: (info: ResubscribeInfo) => void;
  /**
   * EventStoreDB only: told about every change of a subscription's status (connecting, catching-up, live,
   * retrying since T with the last error, foreign records skipped), for `/ready` and the metrics. The store
   * also answers `subscriptionStatus()` (EventStoreDbEventStore) with the status of every open subscription.
   */
  readonly onSubscriptionStatus?: (status: SubscriptionStatus) => void;
  /** EventStoreDB only: told about every record of a ledger stream that is not ours (skipped, never fatal). */
  readonly onForeignRecord?: (record: ForeignRecord) => void;
}

/** The event store the deployment chose. SQLite creates its directory; EventStoreDB connects at the first call. */
export function openEventStore(choice: EventStoreChoice, options: EventStoreOpenOptions = {}): EventStore {
  const validation = options.validation ?? 'catalogue';
  switch (choice.kind) {
    case 'sqlite':
      mkdirSync(path.dirname(choice.file), { recursive: true });
      return openSqliteEventStore({ file: choice.file, synchronous: choice.synchronous, validation });
    case 'eventstoredb':
      return openEventStoreDbStore({
        connectionString: choice.connectionString,
        namespace: choice.streamPrefix,
        validation,
        ...(options.onResubscribe === undefined ? {} : { onResubscribe: options.onResubscribe }),
        ...(options.onSubscriptionStatus === undefined
          ? {}
          : { onSubscriptionStatus: options.onSubscriptionStatus }),
        ...(options.onForeignRecord === undefined ? {} : { onForeignRecord: options.onForeignRecord }),
      });
  }
}

/** The read-model store the deployment chose (PostgreSQL: schema created and migrated on open). */
export async function openReadModelStore(
  choice: ReadModelChoice,
  options: {
    readonly readonly?: boolean;
    /**
     * An empty scratch read model of the same kind, for the query API's views of a past cut: SQLite in memory;
     * PostgreSQL a schema of its own (`<schema>__cut_<random>`) that `close` drops.
     */
    readonly scratch?: boolean;
  } = {},
): Promise<ReadModelStore> {
  if (options.scratch === true)
    return choice.kind === 'sqlite'
      ? openSqliteReadModel({ file: ':memory:' })
      : openPostgresReadModelStore({
          connectionString: choice.connectionString,
          schema: scratchSchemaOf(choice.schema),
          poolSize: 2,
          dropOnClose: true,
        });
  switch (choice.kind) {
    case 'sqlite':
      mkdirSync(path.dirname(choice.file), { recursive: true });
      return openSqliteReadModel({
        file: choice.file,
        ...(options.readonly === true ? { readonly: true } : {}),
      });
    case 'postgres':
      return openPostgresReadModelStore({ connectionString: choice.connectionString, schema: choice.schema });
  }
}

/**
 * Drops the scratch read models that processes now gone left behind (PostgreSQL: the `<schema>__cut_*` schemas of
 * a query process killed before it could drop them, `sweepScratchSchemas`); SQLite's are in memory: none.
 */
export function sweepScratchReadModels(choice: ReadModelChoice): Promise<readonly string[]> {
  return choice.kind === 'postgres'
    ? sweepScratchSchemas({ connectionString: choice.connectionString, schema: choice.schema })
    : Promise.resolve([]);
}

/** File of the embedded checkpoint store (the relay's), beside the SQLite ledger. */
export const CHECKPOINT_FILE = 'relay-checkpoints.sqlite';

/**
 * Where consumers of the global log whose effects live elsewhere (the Kafka relay) keep their checkpoints:
 * PostgreSQL when the deployment has it (`<schema>._checkpoints`, shared by every relay replica), else a
 * SQLite file in the data directory.
 */
export async function openCheckpointStore(deployment: Deployment): Promise<CheckpointStore> {
  const rm = deployment.readModel;
  const identity = eventStoreIdentity(deployment.eventStore);
  if (rm.kind === 'postgres') {
    return bindCheckpointsToStore(
      await openPostgresCheckpointStore({ connectionString: rm.connectionString, schema: rm.schema }),
      identity,
    );
  }
  mkdirSync(deployment.dataDir, { recursive: true });
  return bindCheckpointsToStore(
    openSqliteCheckpointStore(path.join(deployment.dataDir, CHECKPOINT_FILE)),
    identity,
  );
}

/**
 * Which log a checkpoint's positions belong to: the kind of event store and, for EventStoreDB, the stream prefix
 * (another prefix is another ledger). Checkpoints are bound to it (`bindCheckpointsToStore`): after a change of
 * event store a consumer refuses its old checkpoint instead of resuming at a position that means nothing.
 */
export function eventStoreIdentity(choice: EventStoreChoice): string {
  return choice.kind === 'sqlite' ? 'sqlite' : `eventstoredb:${choice.streamPrefix}`;
}

/** File of the embedded digest store when the event store is not the SQLite file (EventStoreDB). */
export const DIGEST_FILE = 'ledger-digests.sqlite';

/**
 * Where the notary records the digests of the global log: the `ledger_digests` table of the SQLite ledger
 * file itself, or (EventStoreDB) a SQLite file in the data directory. A PostgreSQL digest store can follow
 * the same `DigestStore` port.
 */
export function openDigestStore(deployment: Deployment): DigestStore {
  const es = deployment.eventStore;
  if (es.kind === 'sqlite') {
    mkdirSync(path.dirname(es.file), { recursive: true });
    return openSqliteDigestStore(es.file);
  }
  mkdirSync(deployment.dataDir, { recursive: true });
  return openSqliteDigestStore(path.join(deployment.dataDir, DIGEST_FILE));
}
