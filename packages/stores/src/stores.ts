import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CheckpointStore, DigestStore, EventStore, ReadModelStore } from '@crm-ledger/core';
import type { Deployment, EventStoreChoice, ReadModelChoice } from '@crm-ledger/config';
import { openPostgresCheckpointStore, openPostgresReadModelStore } from '@crm-ledger/readmodel-postgres';
import { openSqliteReadModel } from '@crm-ledger/readmodel-sqlite';
import { openEventStoreDbStore, type ResubscribeInfo } from '@crm-ledger/store-eventstoredb';
import {
  openSqliteCheckpointStore,
  openSqliteDigestStore,
  openSqliteEventStore,
} from '@crm-ledger/store-sqlite';

export interface EventStoreOpenOptions {
  /**
   * `'envelope'` when the caller validated every event against the catalogue already (the ingest API, the
   * importers), `'catalogue'` (default) otherwise.
   */
  readonly validation?: 'catalogue' | 'envelope';
  /** EventStoreDB only: told about each resubscription of a subscription (for the service's logger). */
  readonly onResubscribe?: (info: ResubscribeInfo) => void;
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
        validation,
        ...(options.onResubscribe === undefined ? {} : { onResubscribe: options.onResubscribe }),
      });
  }
}

/** The read-model store the deployment chose (PostgreSQL: schema created and migrated on open). */
export async function openReadModelStore(
  choice: ReadModelChoice,
  options: { readonly readonly?: boolean } = {},
): Promise<ReadModelStore> {
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

/** File of the embedded checkpoint store (the relay's), beside the SQLite ledger. */
export const CHECKPOINT_FILE = 'relay-checkpoints.sqlite';

/**
 * Where consumers of the global log whose effects live elsewhere (the Kafka relay) keep their checkpoints:
 * PostgreSQL when the deployment has it (`<schema>._checkpoints`, shared by every relay replica), else a
 * SQLite file in the data directory.
 */
export async function openCheckpointStore(deployment: Deployment): Promise<CheckpointStore> {
  const rm = deployment.readModel;
  if (rm.kind === 'postgres') {
    return openPostgresCheckpointStore({ connectionString: rm.connectionString, schema: rm.schema });
  }
  mkdirSync(deployment.dataDir, { recursive: true });
  return openSqliteCheckpointStore(path.join(deployment.dataDir, CHECKPOINT_FILE));
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
