import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Deployment } from '@crm-ledger/config';
import { StartupError, type EventStore } from '@crm-ledger/core';
import {
  encryptingEventStore,
  isInside,
  loadMasterKey,
  readMasterKeyFile,
  PiiVault,
  type CustomerKeyStore,
  type MasterKey,
} from '@crm-ledger/pii';
import { openPostgresKeyStore } from '@crm-ledger/postgres';
import { openSqliteKeyStore } from '@crm-ledger/sqlite';
import { securePrivateDirectory } from './private-files.js';

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
 * Throws a `StartupError` ('master_key' or 'key_store') with a message for the operator.
 */
export async function openVault(
  deployment: Deployment,
  masterKeyFromEnv: string | undefined,
): Promise<OpenedVault> {
  securePrivateDirectory(deployment.dataDir);
  const choice = deployment.keyStore;
  // customer keys exist (wrapped by the master key): a missing master key must then be restored, not replaced
  const dataExists = choice.kind === 'sqlite' && existsSync(choice.file) && statSync(choice.file).size > 0;
  const master = loadMasterKey({
    fromEnvironment: masterKeyFromEnv,
    dataDir: deployment.dataDir,
    file: deployment.masterKey.file,
    profile: deployment.masterKey.profile,
    dataExists,
  });
  if (E.isLeft(master)) throw new StartupError('master_key', master.left.message);
  const { key, ...where } = master.right;
  const keys = await openKeyStore(choice, key);
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

async function openKeyStore(choice: Deployment['keyStore'], key: Buffer): Promise<CustomerKeyStore> {
  if (choice.kind === 'sqlite') {
    mkdirSync(path.dirname(choice.file), { recursive: true, mode: 0o700 });
    return openSqliteKeyStore({ file: choice.file, masterKey: key });
  }
  return openPostgresKeyStore({
    connectionString: choice.connectionString,
    schema: choice.schema,
    masterKey: key,
  });
}

/**
 * Master-key rotation (docs/privacy.md#rotating-the-master-key): opens the key store with the current master key
 * (as `openVault` finds it) and re-wraps every customer key with the one in `newKeyFile` (created, random, mode
 * 0600 when `generate` and it does not exist), in one transaction. Every other process must be stopped first.
 * Throws a `StartupError` ('master_key', with the reason, or 'key_store').
 */
export async function rotateMasterKey(
  deployment: Deployment,
  masterKeyFromEnv: string | undefined,
  newKeyFile: string,
  generate: boolean,
): Promise<{ readonly rewrapped: number; readonly newKeyFile: string; readonly created: boolean }> {
  const file = path.resolve(newKeyFile);
  if (deployment.masterKey.profile === 'production' && isInside(file, deployment.dataDir))
    throw new StartupError(
      'master_key',
      `the production profile refuses a master key inside the data directory (${file}): keep it elsewhere`,
    );
  const current = loadMasterKey({
    fromEnvironment: masterKeyFromEnv,
    dataDir: deployment.dataDir,
    file: deployment.masterKey.file,
    profile: deployment.masterKey.profile,
    dataExists: true,
  });
  if (E.isLeft(current)) throw new StartupError('master_key', current.left.message);
  if (current.right.file !== undefined && path.resolve(current.right.file) === file)
    throw new StartupError('master_key', `${file} is the current master key: give the file of the new one`);
  const next = readMasterKeyFile(file, generate);
  if (E.isLeft(next)) throw new StartupError('master_key', next.left.message);
  if (next.right.key.equals(current.right.key))
    throw new StartupError('master_key', `${file} holds the current master key: nothing to rotate`);
  const keys = await openKeyStore(deployment.keyStore, current.right.key);
  try {
    const { rewrapped } = await keys.rewrap(next.right.key);
    return { rewrapped, newKeyFile: file, created: next.right.source === 'new file' };
  } finally {
    await keys.close();
  }
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
