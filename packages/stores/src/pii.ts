import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Deployment } from '@crm-ledger/config';
import type { EventStore } from '@crm-ledger/core';
import {
  encryptingEventStore,
  loadMasterKey,
  openPostgresKeyStore,
  openSqliteKeyStore,
  PiiVault,
  type CustomerKeyStore,
  type MasterKey,
} from '@crm-ledger/pii';

/** Thrown when the master key cannot be had (bad CRM_LEDGER_MASTER_KEY, unreadable or too open master.key). */
export class MasterKeyUnavailable extends Error {
  override readonly name = 'MasterKeyUnavailable';
}

export interface OpenedVault {
  readonly vault: PiiVault;
  readonly keys: CustomerKeyStore;
  readonly masterKey: Omit<MasterKey, 'key'>;
  /** One line for the start-up banner: where keys live and where the master key came from (never the key). */
  readonly describe: string;
}

/**
 * Opens the key store the deployment chose (CRM_LEDGER_KEY_STORE: `keys.db` in the data directory, or a
 * PostgreSQL schema) with the master key (CRM_LEDGER_MASTER_KEY, else `<data dir>/master.key`, created 0600).
 * Throws `MasterKeyUnavailable` or `KeyStoreOpenError` with a message for the operator.
 */
export async function openVault(
  deployment: Deployment,
  masterKeyFromEnv: string | undefined,
): Promise<OpenedVault> {
  mkdirSync(deployment.dataDir, { recursive: true });
  const master = loadMasterKey({ fromEnvironment: masterKeyFromEnv, dataDir: deployment.dataDir });
  if (E.isLeft(master)) throw new MasterKeyUnavailable(master.left.message);
  const { key, ...where } = master.right;
  const choice = deployment.keyStore;
  let keys: CustomerKeyStore;
  if (choice.kind === 'sqlite') {
    mkdirSync(path.dirname(choice.file), { recursive: true });
    keys = openSqliteKeyStore({ file: choice.file, masterKey: key });
  } else {
    keys = await openPostgresKeyStore({
      connectionString: choice.connectionString,
      schema: choice.schema,
      masterKey: key,
    });
  }
  const from =
    where.source === 'environment'
      ? 'CRM_LEDGER_MASTER_KEY'
      : `${where.file ?? ''}${where.source === 'new file' ? ' (created)' : ''}`;
  return {
    vault: new PiiVault(keys),
    keys,
    masterKey: where,
    describe: `${keys.description}, master key from ${from}`,
  };
}

/**
 * The writers' event store: the chosen store behind the crypto-shredding decorator, so personal fields are
 * encrypted with their customer's key before they are stored. Closing it closes the key store too.
 */
export function withEncryption(
  store: EventStore,
  opened: OpenedVault,
  options: {
    readonly validate: boolean;
    readonly onEraseFailed?: (customerId: string, message: string) => void;
  },
): EventStore {
  const encrypted = encryptingEventStore(store, opened.vault, {
    validate: options.validate,
    ...(options.onEraseFailed === undefined ? {} : { onEraseFailed: options.onEraseFailed }),
  });
  return {
    ...encrypted,
    close: async () => {
      try {
        await encrypted.close();
      } finally {
        await opened.keys.close();
      }
    },
  };
}
