import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { LedgerEnv, loadConfig, type FlagNames } from './config.js';

const ESDB_URL = /^esdb(\+discover)?:\/\/\S+$/;
const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * The deployment choices every service shares: which event store, which read-model store, Kafka or not.
 * Defaults give the embedded ledger (SQLite files in CRM_LEDGER_DATA_DIR, Kafka off).
 */
export const deploymentFields = {
  CRM_LEDGER_EVENT_STORE: z.enum(['sqlite', 'eventstoredb']).default('sqlite'),
  CRM_LEDGER_EVENTSTOREDB_URL: z
    .string()
    .trim()
    .regex(ESDB_URL, 'must be an EventStoreDB connection string, e.g. esdb://localhost:2113?tls=false')
    .optional(),
  CRM_LEDGER_READ_MODEL_STORE: z.enum(['sqlite', 'postgres']).default('sqlite'),
  CRM_LEDGER_POSTGRES_URL: z
    .string()
    .trim()
    .regex(POSTGRES_URL, 'must be a PostgreSQL URL, e.g. postgres://user:password@localhost:5432/crm_ledger')
    .optional(),
  CRM_LEDGER_POSTGRES_SCHEMA: z
    .string()
    .trim()
    .regex(
      /^[a-z][a-z0-9_]{0,53}$/,
      'must be a schema name: a-z, 0-9 and _, starting with a letter, at most 54',
    )
    .default('crm_ledger'),
  CRM_LEDGER_KEY_STORE: z.enum(['sqlite', 'postgres']).default('sqlite'),
  CRM_LEDGER_KEY_STORE_SCHEMA: z
    .string()
    .trim()
    .regex(
      /^[a-z][a-z0-9_]{0,53}$/,
      'must be a schema name: a-z, 0-9 and _, starting with a letter, at most 54',
    )
    .default('crm_ledger_keys'),
  CRM_LEDGER_MASTER_KEY: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be base64 of 32 random bytes, e.g. from: openssl rand -base64 32')
    .optional(),
  CRM_LEDGER_KAFKA_BROKERS: z
    .string()
    .trim()
    .transform((s) => (s === 'off' ? [] : s.split(',').map((b) => b.trim())))
    .pipe(z.array(z.string().regex(BROKER, "must be 'off' or host:port[,host:port...]")))
    .default([]),
  CRM_LEDGER_KAFKA_CLIENT_ID: z.string().trim().min(1).max(100).default('crm-ledger'),
  CRM_LEDGER_KAFKA_TOPIC_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be letters, digits, . _ - only')
    .default('crm'),
  CRM_LEDGER_KAFKA_TOPIC_LAYOUT: z.enum(['per-area', 'single']).default('per-area'),
  CRM_LEDGER_KAFKA_PARTITIONS: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
    .transform(Number)
    .pipe(
      z
        .int()
        .min(1, 'must be a whole number from 1 to 1000')
        .max(1000, 'must be a whole number from 1 to 1000'),
    )
    .default(6),
};

/** Every variable of a crm-ledger service: the shared settings and the deployment choices. */
export const ServiceEnv = LedgerEnv.extend(deploymentFields);
export type ServiceEnv = z.output<typeof ServiceEnv>;

/** Variables whose values may hold credentials: never echoed in messages. */
export const SECRET_VARIABLES: readonly string[] = [
  'CRM_LEDGER_EVENTSTOREDB_URL',
  'CRM_LEDGER_POSTGRES_URL',
  'CRM_LEDGER_MASTER_KEY',
];

/**
 * Reads and validates a service's configuration. Like `loadConfig` (one line per wrong variable, naming it),
 * plus the rules that tie variables together (a connection string for the store chosen), and never
 * echoing a value that may hold a password.
 */
export function loadServiceConfig(
  env: Record<string, string | undefined>,
  flags: Record<string, string | number | undefined> = {},
  flagNames: FlagNames = {},
): E.Either<string[], ServiceEnv> {
  const value = (key: string): string | undefined => {
    const v = flags[key] !== undefined ? String(flags[key]) : env[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const fields = loadConfig(ServiceEnv, env, flags, flagNames);
  const lines = E.isLeft(fields) ? fields.left.map(redact) : [];
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
  if (lines.length > 0 || E.isLeft(fields)) return E.left(lines);
  return E.right(fields.right);
}

function redact(line: string): string {
  const secret = SECRET_VARIABLES.find((k) => line.startsWith(`${k}:`) || line.startsWith(`${k} (`));
  return secret === undefined
    ? line
    : line.replace(/, got '.*'$/s, ', got a value (not shown: it may hold a password)');
}

export type EventStoreChoice =
  | { readonly kind: 'sqlite'; readonly file: string; readonly synchronous: 'full' | 'normal' }
  | { readonly kind: 'eventstoredb'; readonly connectionString: string };

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

export interface Deployment {
  readonly dataDir: string;
  readonly eventStore: EventStoreChoice;
  readonly readModel: ReadModelChoice;
  readonly kafka: KafkaChoice;
  readonly keyStore: KeyStoreChoice;
}

/** File names of the embedded stores in the data directory. */
export const SQLITE_EVENT_STORE_FILE = 'ledger.sqlite';
export const SQLITE_READ_MODEL_FILE = 'readmodel.sqlite';
export const SQLITE_KEY_STORE_FILE = 'keys.db';

/** The choices of a validated configuration, as data the services match on (paths made absolute). */
export function deploymentOf(config: ServiceEnv): Deployment {
  const dataDir = path.resolve(config.CRM_LEDGER_DATA_DIR);
  const eventStore: EventStoreChoice =
    config.CRM_LEDGER_EVENT_STORE === 'eventstoredb'
      ? { kind: 'eventstoredb', connectionString: config.CRM_LEDGER_EVENTSTOREDB_URL! }
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
  return { dataDir, eventStore, readModel, kafka, keyStore };
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
