import path from 'node:path';
import type { ServiceEnv } from '@crm-ledger/config';
import type { EventStore, ReadModelStore } from '@crm-ledger/core';
import type { PiiVault } from '@crm-ledger/pii';
import { openConfiguredReadModel, openLedgerStore } from '@crm-ledger/app';

/** The embedded default: one SQLite file in the data directory. */
export function sqliteFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'ledger.sqlite');
}

/**
 * The event store the configuration chose (CRM_LEDGER_EVENT_STORE), opened as a writer by the root: behind the
 * crypto-shredding decorator (CRM_LEDGER_KEY_STORE). Closing the store closes the key store.
 */
export async function openStore(
  config: ServiceEnv,
  dataDir: string,
): Promise<{ store: EventStore; describe: string; vault: PiiVault; keysDescribe: string }> {
  const opened = await openLedgerStore(config, dataDir, 'writer');
  return {
    store: opened.store,
    describe: opened.describe,
    vault: opened.vault!,
    keysDescribe: opened.keysDescribe!,
  };
}

/** The read-model store the configuration chose (CRM_LEDGER_READ_MODEL_STORE): SQLite by default, or PostgreSQL. */
export function openReadModel(config: ServiceEnv, dataDir: string): Promise<ReadModelStore> {
  return openConfiguredReadModel(config, dataDir);
}
