import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { LEDGER_SETTINGS, loadConfig, type FlagNames } from './config.js';
import { settingsSchema, type SettingName } from './settings.js';

/**
 * The deployment choices every service shares: which event store, which read-model store, Kafka or not.
 * Defaults give the embedded ledger (SQLite files in CRM_LEDGER_DATA_DIR, Kafka off).
 */
export const DEPLOYMENT_SETTINGS = [
  'CRM_LEDGER_EVENT_STORE',
  'CRM_LEDGER_EVENTSTOREDB_URL',
  'CRM_LEDGER_EVENTSTOREDB_STREAM_PREFIX',
  'CRM_LEDGER_READ_MODEL_STORE',
  'CRM_LEDGER_POSTGRES_URL',
  'CRM_LEDGER_POSTGRES_SCHEMA',
  'CRM_LEDGER_KEY_STORE',
  'CRM_LEDGER_KEY_STORE_SCHEMA',
  'CRM_LEDGER_AUTH_STORE',
  'CRM_LEDGER_AUTH_STORE_SCHEMA',
  'CRM_LEDGER_MASTER_KEY',
  'CRM_LEDGER_MASTER_KEY_FILE',
  'CRM_LEDGER_PROFILE',
  'CRM_LEDGER_KAFKA_BROKERS',
  'CRM_LEDGER_KAFKA_CLIENT_ID',
  'CRM_LEDGER_KAFKA_TOPIC_PREFIX',
  'CRM_LEDGER_KAFKA_TOPIC_LAYOUT',
  'CRM_LEDGER_KAFKA_PARTITIONS',
] as const satisfies readonly SettingName[];

/** Every variable of a crm-ledger service: the shared settings and the deployment choices. */
export const ServiceEnv = settingsSchema([...LEDGER_SETTINGS, ...DEPLOYMENT_SETTINGS]);
export type ServiceEnv = z.output<typeof ServiceEnv>;

/**
 * Reads and validates a service's configuration. Like `loadConfig` (one line per wrong variable, naming it),
 * plus the rules that tie variables together (a connection string for the store chosen), and never
 * echoing a value that may hold a password.
 */
export function loadServiceConfig(
  env: Record<string, string | undefined>,
  flags: Record<string, string | number | undefined> = Object.create(null) as Record<string, never>,
  flagNames: FlagNames = Object.create(null) as FlagNames,
): E.Either<string[], ServiceEnv> {
  const value = (key: string): string | undefined => {
    const v = flags[key] !== undefined ? String(flags[key]) : env[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const fields = loadConfig(ServiceEnv, env, flags, flagNames);
  const lines = E.isLeft(fields) ? fields.left : [];
  const required = (
    key: string,
    when: string,
    chosen: string | undefined,
    option: string,
    example: string,
  ) => {
    if (chosen === option && value(key) === undefined) {
      lines.push(`${key}: is required when ${when}=${option}, e.g. ${example}`);
    }
  };
  required(
    'CRM_LEDGER_EVENTSTOREDB_URL',
    'CRM_LEDGER_EVENT_STORE',
    value('CRM_LEDGER_EVENT_STORE'),
    'eventstoredb',
    'esdb://localhost:2113?tls=false',
  );
  required(
    'CRM_LEDGER_POSTGRES_URL',
    'CRM_LEDGER_READ_MODEL_STORE',
    value('CRM_LEDGER_READ_MODEL_STORE'),
    'postgres',
    'postgres://user:password@localhost:5432/crm_ledger',
  );
  required(
    'CRM_LEDGER_POSTGRES_URL',
    'CRM_LEDGER_KEY_STORE',
    value('CRM_LEDGER_KEY_STORE'),
    'postgres',
    'postgres://user:password@localhost:5432/crm_ledger',
  );
  required(
    'CRM_LEDGER_POSTGRES_URL',
    'CRM_LEDGER_AUTH_STORE',
    value('CRM_LEDGER_AUTH_STORE'),
    'postgres',
    'postgres://user:password@localhost:5432/crm_ledger',
  );
  if (lines.length > 0 || E.isLeft(fields)) return E.left(lines);
  return E.right(fields.right);
}

export type EventStoreChoice =
  | { readonly kind: 'sqlite'; readonly file: string; readonly synchronous: 'full' | 'normal' }
  | {
      readonly kind: 'eventstoredb';
      readonly connectionString: string;
      /** Prefix of every ESDB stream name (the adapter's `namespace`), '' for none. */
      readonly streamPrefix: string;
    };

export type ReadModelChoice =
  | { readonly kind: 'sqlite'; readonly file: string; readonly synchronous: 'full' | 'normal' }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly schema: string };

export type KafkaChoice =
  | { readonly kind: 'off' }
  | {
      readonly kind: 'brokers';
      readonly brokers: readonly string[];
      readonly clientId: string;
      readonly topics: { readonly prefix: string; readonly layout: 'per-area' | 'single' };
      readonly partitions: number;
    };

/** Where the customer keys of crypto-shredding live (docs/privacy.md); never the master key itself. */
export type KeyStoreChoice =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly schema: string };

/** Where API keys (hashes) and the contact access log live (docs/security.md). */
export type AuthStoreChoice =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly schema: string };

/** Where the master key comes from: the environment, or a file (default `<dataDir>/master.key`). */
export interface MasterKeyChoice {
  readonly file: string;
  /** The production profile refuses a file inside the data directory (a backup of it would defeat erasure). */
  readonly profile: 'development' | 'production';
}

export interface Deployment {
  readonly dataDir: string;
  readonly masterKey: MasterKeyChoice;
  readonly eventStore: EventStoreChoice;
  readonly readModel: ReadModelChoice;
  readonly kafka: KafkaChoice;
  readonly keyStore: KeyStoreChoice;
  readonly authStore: AuthStoreChoice;
}

/** File names of the embedded stores in the data directory. */
export const SQLITE_EVENT_STORE_FILE = 'ledger.sqlite';
export const SQLITE_READ_MODEL_FILE = 'readmodel.sqlite';
export const SQLITE_KEY_STORE_FILE = 'keys.db';
export const SQLITE_AUTH_STORE_FILE = 'auth.sqlite';

/** The choices of a validated configuration, as data the services match on (paths made absolute). */
export function deploymentOf(config: ServiceEnv): Deployment {
  const dataDir = path.resolve(config.CRM_LEDGER_DATA_DIR);
  const eventStore: EventStoreChoice =
    config.CRM_LEDGER_EVENT_STORE === 'eventstoredb'
      ? {
          kind: 'eventstoredb',
          connectionString: config.CRM_LEDGER_EVENTSTOREDB_URL!,
          streamPrefix: config.CRM_LEDGER_EVENTSTOREDB_STREAM_PREFIX,
        }
      : {
          kind: 'sqlite',
          file: path.join(dataDir, SQLITE_EVENT_STORE_FILE),
          synchronous: config.CRM_LEDGER_SQLITE_SYNCHRONOUS,
        };
  const readModel: ReadModelChoice =
    config.CRM_LEDGER_READ_MODEL_STORE === 'postgres'
      ? {
          kind: 'postgres',
          connectionString: config.CRM_LEDGER_POSTGRES_URL!,
          schema: config.CRM_LEDGER_POSTGRES_SCHEMA,
        }
      : {
          kind: 'sqlite',
          file: path.join(dataDir, SQLITE_READ_MODEL_FILE),
          synchronous: config.CRM_LEDGER_SQLITE_SYNCHRONOUS,
        };
  const kafka: KafkaChoice =
    config.CRM_LEDGER_KAFKA_BROKERS.length === 0
      ? { kind: 'off' }
      : {
          kind: 'brokers',
          brokers: config.CRM_LEDGER_KAFKA_BROKERS,
          clientId: config.CRM_LEDGER_KAFKA_CLIENT_ID,
          topics: {
            prefix: config.CRM_LEDGER_KAFKA_TOPIC_PREFIX,
            layout: config.CRM_LEDGER_KAFKA_TOPIC_LAYOUT,
          },
          partitions: config.CRM_LEDGER_KAFKA_PARTITIONS,
        };
  const keyStore: KeyStoreChoice =
    config.CRM_LEDGER_KEY_STORE === 'postgres'
      ? {
          kind: 'postgres',
          connectionString: config.CRM_LEDGER_POSTGRES_URL!,
          schema: config.CRM_LEDGER_KEY_STORE_SCHEMA,
        }
      : { kind: 'sqlite', file: path.join(dataDir, SQLITE_KEY_STORE_FILE) };
  const masterKey: MasterKeyChoice = {
    file: path.resolve(config.CRM_LEDGER_MASTER_KEY_FILE ?? path.join(dataDir, 'master.key')),
    profile: config.CRM_LEDGER_PROFILE,
  };
  const authStore: AuthStoreChoice =
    config.CRM_LEDGER_AUTH_STORE === 'postgres'
      ? {
          kind: 'postgres',
          connectionString: config.CRM_LEDGER_POSTGRES_URL!,
          schema: config.CRM_LEDGER_AUTH_STORE_SCHEMA,
        }
      : { kind: 'sqlite', file: path.join(dataDir, SQLITE_AUTH_STORE_FILE) };
  return { dataDir, masterKey, eventStore, readModel, kafka, keyStore, authStore };
}

/** One line for the start-up log: where the data lives, without credentials. */
export function describeDeployment(d: Deployment): string {
  const es =
    d.eventStore.kind === 'sqlite'
      ? `event store SQLite ${d.eventStore.file}`
      : `event store EventStoreDB ${withoutCredentials(d.eventStore.connectionString)}`;
  const rm =
    d.readModel.kind === 'sqlite'
      ? `read models SQLite ${d.readModel.file}`
      : `read models PostgreSQL ${withoutCredentials(d.readModel.connectionString)} schema ${d.readModel.schema}`;
  const kafka = d.kafka.kind === 'off' ? 'Kafka off' : `Kafka ${d.kafka.brokers.join(',')}`;
  return `${es}; ${rm}; ${kafka}`;
}

/** `scheme://user:password@host/...` -> `scheme://user:***@host/...` */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:/@]+):[^@/]*@/i, '$1:***@');
}
