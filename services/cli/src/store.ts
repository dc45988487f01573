import path from 'node:path';
import { deploymentOf, describeDeployment, type ServiceEnv } from '@crm-ledger/config';
import type { EventStore, ReadModelStore } from '@crm-ledger/core';
import type { PiiVault } from '@crm-ledger/pii';
import { openEventStore, openReadModelStore, openVault, withEncryption } from '@crm-ledger/stores';

/** The embedded default: one SQLite file in the data directory. */
export function sqliteFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'ledger.sqlite');
}

/**
 * The event store the configuration chose (CRM_LEDGER_EVENT_STORE): SQLite by default, or EventStoreDB, behind
 * the crypto-shredding decorator (personal fields encrypted with the customer's key from the key store,
 * CRM_LEDGER_KEY_STORE). Closing the store closes the key store.
 */
export async function openStore(
  config: ServiceEnv,
  dataDir: string,
): Promise<{ store: EventStore; describe: string; vault: PiiVault; keysDescribe: string }> {
  const deployment = deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir });
  const opened = await openVault(deployment, config.CRM_LEDGER_MASTER_KEY);
  const store = withEncryption(
    openEventStore(deployment.eventStore, {
      // the ingest API and the importers validate every event against the catalogue before appending
      validation: 'envelope',
    }),
    opened,
    { validate: false },
  );
  const where = describeDeployment(deployment).split('; ')[0]!;
  const describe =
    deployment.eventStore.kind === 'sqlite'
      ? `${where} (synchronous=${deployment.eventStore.synchronous})`
      : where;
  return {
    store,
    describe: `${describe}; ${opened.describe}`,
    vault: opened.vault,
    keysDescribe: opened.describe,
  };
}

/** The read-model store the configuration chose (CRM_LEDGER_READ_MODEL_STORE): SQLite by default, or PostgreSQL. */
export function openReadModel(config: ServiceEnv, dataDir: string): Promise<ReadModelStore> {
  return openReadModelStore(deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir }).readModel);
}
