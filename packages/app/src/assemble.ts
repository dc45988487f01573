import type { FastifyBaseLogger } from 'fastify';
import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import {
  deploymentOf,
  describeDeployment,
  loadConfig,
  settingsSchema,
  type ServiceEnv,
} from '@crm-ledger/config';
import { invalidConfiguration, type Clock, type EventStore, type ReadModelStore } from '@crm-ledger/core';
import { catalogueComponents } from '@crm-ledger/ingest-api';
import type { PiiVault } from '@crm-ledger/pii';
import { QUERY_SETTINGS } from '@crm-ledger/query-api';
import type { LedgerComponent } from './component.js';
import { clvRefitComponent } from './components/clv-refit.js';
import { dashboardComponent } from './components/dashboard.js';
import { ingestComponent } from './components/ingest.js';
import { notaryComponent } from './components/notary.js';
import { projectorComponent } from './components/projector.js';
import { kafkaProjectorComponent } from './components/kafka-projector.js';
import { queryApiComponent } from './components/query-api.js';
import { shredderComponent } from './components/shredder.js';
import { openAuthStore } from './auth.js';
import { signalsComponent } from './components/signals.js';
import { startLedger, type RunningLedger } from './ledger.js';
import { openVault, withEncryption } from './pii.js';
import { openDigestStore, openEventStore, openReadModelStore, sweepScratchReadModels } from './stores.js';
import { installTestSeams } from './test-seams.js';

/**
 * How a process uses the event store:
 * - `writer` appends events validated before (ingest API, importers, inbound): personal fields encrypted with
 *   the customer's key, the store checks the envelope only;
 * - `reader` shows personal data (the query API's customer 360): decrypts with the customer keys;
 * - `follower` only reads the log (projector, notary, CLV refit, relay): no key store.
 */
export type EventStoreAccess = 'writer' | 'reader' | 'follower';

export interface OpenedLedgerStore {
  readonly store: EventStore;
  /** Where data lives, for the start-up banner (never a credential). */
  readonly describe: string;
  readonly vault?: PiiVault;
  /** Where customer keys live and where the master key came from, when a key store is open. */
  readonly keysDescribe?: string;
}

/**
 * The event store the configuration chose (CRM_LEDGER_EVENT_STORE: SQLite in the data directory, or
 * EventStoreDB), opened for `access`: writers and readers behind the crypto-shredding decorator (key store
 * CRM_LEDGER_KEY_STORE, master key CRM_LEDGER_MASTER_KEY); closing the store closes the key store.
 */
export async function openLedgerStore(
  config: ServiceEnv,
  dataDir: string,
  access: EventStoreAccess,
): Promise<OpenedLedgerStore> {
  const deployment = deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir });
  const described = describeDeployment(deployment).split('; ');
  if (access === 'follower')
    return { store: openEventStore(deployment.eventStore), describe: described.slice(0, 2).join('; ') };
  const opened = await openVault(deployment, config.CRM_LEDGER_MASTER_KEY);
  if (access === 'reader') {
    const store = withEncryption(openEventStore(deployment.eventStore), opened, { validate: true });
    const describe = `${described.slice(0, 2).join('; ')}; ${opened.describe}`;
    return { store, describe, vault: opened.vault, keysDescribe: opened.describe };
  }
  // writers validate every event against the catalogue before appending (ingest API, importers, inbound)
  const store = withEncryption(openEventStore(deployment.eventStore, { validation: 'envelope' }), opened, {
    validate: false,
  });
  const where =
    deployment.eventStore.kind === 'sqlite'
      ? `${described[0]!} (synchronous=${deployment.eventStore.synchronous})`
      : described[0]!;
  return {
    store,
    describe: `${where}; ${opened.describe}`,
    vault: opened.vault,
    keysDescribe: opened.describe,
  };
}

/** The read-model store the configuration chose (CRM_LEDGER_READ_MODEL_STORE): SQLite by default, or PostgreSQL. */
export function openConfiguredReadModel(
  config: ServiceEnv,
  dataDir: string,
  options: { readonly scratch?: boolean } = {},
): Promise<ReadModelStore> {
  return openReadModelStore(deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir }).readModel, options);
}

/**
 * The notary of the configured ledger: digests go to the digest store beside the event store
 * (`ledger_digests` of the SQLite ledger, else a SQLite file in the data directory).
 */
const notary = (config: ServiceEnv, settings: ProcessSettings): LedgerComponent =>
  notaryComponent(
    (dataDir) => openDigestStore(deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir })),
    settings.CRM_LEDGER_DIGEST_EVERY,
  );

/**
 * The settings of the components beyond the server's (declared in SETTINGS of @crm-ledger/config): the query
 * API's, the notary's and the scheduled CLV refit's. Every role reads them (all have defaults).
 */
export const PROCESS_SETTINGS = [
  ...QUERY_SETTINGS,
  'CRM_LEDGER_DIGEST_EVERY',
  'CRM_LEDGER_CLV_REFIT_HOURS',
  'CRM_LEDGER_CLV_CURRENCY',
  'CRM_LEDGER_PROJECTOR_SOURCE',
  'CRM_LEDGER_PROJECTOR_GROUP_ID',
  'CRM_LEDGER_PROJECTOR_CONCURRENCY',
  'CRM_LEDGER_PROJECTOR_SESSION_TIMEOUT_MS',
  'CRM_LEDGER_PROJECTOR_FETCH_MAX_BYTES',
  'CRM_LEDGER_SIGNAL_RULES',
  'CRM_LEDGER_SIGNALS_EVERY_SECONDS',
] as const;
export const ProcessEnv = settingsSchema(PROCESS_SETTINGS);
export type ProcessSettings = z.output<typeof ProcessEnv>;

/**
 * Reads the components' settings before anything is opened; throws a `StartupError` ('configuration') with one
 * line per wrong variable.
 */
export function processSettingsFrom(env: Record<string, string | undefined>): ProcessSettings {
  const r = loadConfig(ProcessEnv, env);
  if (E.isLeft(r)) throw invalidConfiguration(r.left);
  return r.right;
}

/** The projector of the configured source: the global log (default) or a Kafka consumer group. */
const projectorOf = (config: ServiceEnv, settings: ProcessSettings): LedgerComponent =>
  settings.CRM_LEDGER_PROJECTOR_SOURCE === 'kafka'
    ? kafkaProjectorComponent(config, settings)
    : projectorComponent;

/**
 * The processes the root assembles. `all` is `crm-ledger start` (everything in one process); the others are
 * the standalone services of the production topology (docs/deploy.md). Every topology records the digests of
 * the log (notary) and refits CLV on schedule: in one process, `all` does; standalone, the projector does
 * (it follows the log and owns the read models the fit is written to).
 */
export const ROLES = {
  all: {
    access: 'writer',
    readModel: true,
    catalogue: true,
    // first: every past erasure has its key destroyed before anything serves
    components: (config, settings) => [
      shredderComponent,
      ingestComponent,
      projectorOf(config, settings),
      queryApiComponent(settings),
      clvRefitComponent(settings),
      dashboardComponent,
      notary(config, settings),
      signalsComponent(settings),
    ],
  },
  ingest: {
    access: 'writer',
    readModel: false,
    catalogue: true,
    // the signal engine appends: it runs where the writer store is
    components: (_config, settings) => [shredderComponent, ingestComponent, signalsComponent(settings)],
  },
  projector: {
    access: 'follower',
    readModel: true,
    catalogue: false,
    components: (config, settings) => [
      projectorOf(config, settings),
      queryApiComponent(settings),
      clvRefitComponent(settings),
      notary(config, settings),
    ],
  },
  query: {
    access: 'reader',
    readModel: true,
    catalogue: false,
    components: (_config, settings) => [queryApiComponent(settings)],
  },
} as const satisfies Record<
  string,
  {
    readonly access: EventStoreAccess;
    readonly readModel: boolean;
    /** The event catalogue's JSON Schemas in the OpenAPI document (processes that accept events). */
    readonly catalogue: boolean;
    readonly components: (config: ServiceEnv, settings: ProcessSettings) => readonly LedgerComponent[];
  }
>;
export type LedgerRole = keyof typeof ROLES;

export interface StartProcessOptions {
  readonly role: LedgerRole;
  readonly config: ServiceEnv;
  /** The components' settings (`processSettingsFrom(process.env)` in a main). */
  readonly settings: ProcessSettings;
  readonly logger: FastifyBaseLogger;
  readonly requestLogging?: boolean;
  /** Runs after the store is open and before anything listens (e.g. seeding an empty store). */
  readonly beforeListen?: (store: EventStore) => Promise<void>;
  readonly clock?: Clock;
}

/** Assembles and starts the process of `role` from the configuration: its stores, its components, its server. */
export function startProcess(options: StartProcessOptions): Promise<RunningLedger> {
  const { role, config } = options;
  const shape = ROLES[role];
  // The test seams are named CRM_LEDGER_TEST_* and read nothing else (test-seams.ts).
  // eslint-disable-next-line no-restricted-properties
  installTestSeams(process.env);
  return startLedger({
    config,
    logger: options.logger,
    components: shape.components(config, options.settings),
    openStore: (dataDir) => openLedgerStore(config, dataDir, shape.access),
    openAuthStore: (dataDir) =>
      openAuthStore(deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir }).authStore),
    ...(shape.readModel
      ? {
          openReadModel: (dataDir, o) => openConfiguredReadModel(config, dataDir, o),
          sweepScratchReadModels: () => sweepScratchReadModels(deploymentOf(config).readModel),
        }
      : {}),
    ...(shape.catalogue ? { extraSchemas: catalogueComponents() } : {}),
    ...(options.requestLogging === undefined ? {} : { requestLogging: options.requestLogging }),
    ...(options.beforeListen === undefined ? {} : { beforeListen: options.beforeListen }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}
