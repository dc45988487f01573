import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CheckpointStore, EventStore, ReadModelStore } from '@crm-ledger/core';
import type { Deployment, EventStoreChoice, ReadModelChoice } from '@crm-ledger/config';
import { openPostgresCheckpointStore, openPostgresReadModelStore } from '@crm-ledger/readmodel-postgres';
import { openSqliteReadModel } from '@crm-ledger/readmodel-sqlite';
import { openEventStoreDbStore, type ResubscribeInfo } from '@crm-ledger/store-eventstoredb';
import { openSqliteCheckpointStore, openSqliteEventStore } from '@crm-ledger/store-sqlite';

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
