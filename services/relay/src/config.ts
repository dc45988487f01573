import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Every variable the relay reads, with its default and meaning (the `--help` text is generated from this). */
export const ENV = {
  LEDGER_FILE: {
    schema: z.string().min(1).optional(),
    help:
      'path of the SQLite ledger to relay (required, unless CRM_LEDGER_DATA_DIR gives <dir>/ledger.sqlite or ' +
      'CRM_LEDGER_EVENT_STORE=eventstoredb picks EventStoreDB, see docs/configuration.md)',
  },
  KAFKA_BROKERS: {
    schema: z
      .string()
      .min(1)
      .transform((s) => s.split(',').map((b) => b.trim()))
      .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).min(1)),
    help: 'bootstrap brokers, comma-separated host:port (required)',
  },
  RELAY_CHECKPOINT_FILE: {
    schema: z.string().min(1).optional(),
    help: 'SQLite file of the checkpoint (default: relay-checkpoints.db beside the ledger)',
  },
  RELAY_NAME: {
    schema: z.string().min(1).max(100).default('kafka-relay'),
    help: 'checkpoint name: one per relay and target cluster (default kafka-relay)',
  },
  KAFKA_CLIENT_ID: {
    schema: z.string().min(1).default('crm-ledger-relay'),
    help: 'default crm-ledger-relay',
  },
  RELAY_TOPIC_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, . _ - only')
      .default('crm'),
    help: 'prefix of topic names (default crm: crm.relationship, crm.revenue...)',
  },
  RELAY_TOPIC_LAYOUT: {
    schema: z.enum(['per-area', 'single']).default('per-area'),
    help: 'per-area (one topic per area, default) or single (<prefix>.events)',
  },
  RELAY_PARTITIONS: { schema: positiveInt(6), help: 'partitions of topics the relay creates (default 6)' },
  RELAY_MODE: {
    schema: z.enum(['follow', 'catch-up']).default('follow'),
    help: 'follow (wait for new events, default) or catch-up (exit 0 at the end of the log)',
  },
  RELAY_BATCH_SIZE: {
    schema: positiveInt(2000),
    help: 'events read from the ledger per page (default 2000)',
  },
  RELAY_MAX_SEND_BYTES: {
    schema: positiveInt(900_000),
    help: 'largest send to the broker, bytes (default 900000, under the broker default 1 MiB)',
  },
  RELAY_RETRIES: {
    schema: z.coerce.number().int().min(0).max(100).default(8),
    help: 'retries of a failed send before the relay stops (default 8, backing off up to 30 s)',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    help: 'pino level (default info)',
  },
} as const;

const Env = z.object(
  Object.fromEntries(Object.entries(ENV).map(([k, v]) => [k, v.schema])) as {
    [K in keyof typeof ENV]: (typeof ENV)[K]['schema'];
  },
);

/**
 * `LEDGER_FILE` undefined: the event store is EventStoreDB (CRM_LEDGER_EVENT_STORE=eventstoredb) and the
 * checkpoint lives where the shared configuration says (PostgreSQL or the data directory).
 */
export type RelayConfig = z.infer<typeof Env> & { readonly RELAY_CHECKPOINT_FILE: string | undefined };

/**
 * The shared crm-ledger variables (docs/configuration.md) as defaults of the relay's own: one configuration
 * for every service (e.g. infra/docker-compose.yml); the relay's own names still win when set.
 */
export function withSharedDefaults(
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  const out = { ...env };
  const fallback: Record<string, string | undefined> = {
    KAFKA_BROKERS:
      set(env.CRM_LEDGER_KAFKA_BROKERS) === 'off' ? undefined : set(env.CRM_LEDGER_KAFKA_BROKERS),
    KAFKA_CLIENT_ID: set(env.CRM_LEDGER_KAFKA_CLIENT_ID),
    RELAY_TOPIC_PREFIX: set(env.CRM_LEDGER_KAFKA_TOPIC_PREFIX),
    RELAY_TOPIC_LAYOUT: set(env.CRM_LEDGER_KAFKA_TOPIC_LAYOUT),
    RELAY_PARTITIONS: set(env.CRM_LEDGER_KAFKA_PARTITIONS),
    LOG_LEVEL: set(env.CRM_LEDGER_LOG_LEVEL) === 'silent' ? 'fatal' : set(env.CRM_LEDGER_LOG_LEVEL),
    LEDGER_FILE:
      set(env.CRM_LEDGER_EVENT_STORE) !== 'eventstoredb' && set(env.CRM_LEDGER_DATA_DIR) !== undefined
        ? path.join(path.resolve(env.CRM_LEDGER_DATA_DIR!), 'ledger.sqlite')
        : undefined,
  };
  for (const [k, v] of Object.entries(fallback)) if (set(out[k]) === undefined && v !== undefined) out[k] = v;
  return out;
}

/** Parses the environment once at start-up; a `Left` names every wrong variable. */
export function parseConfig(env: Record<string, string | undefined>): E.Either<string[], RelayConfig> {
  const picked = Object.fromEntries(Object.keys(ENV).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = Env.safeParse(picked);
  const ledgerMissing =
    picked.LEDGER_FILE === undefined && env.CRM_LEDGER_EVENT_STORE !== 'eventstoredb'
      ? ['LEDGER_FILE: is required (or CRM_LEDGER_EVENT_STORE=eventstoredb with CRM_LEDGER_EVENTSTOREDB_URL)']
      : [];
  if (!parsed.success) {
    return E.left([
      ...ledgerMissing,
      ...parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '(environment)');
        const missing = picked[name] === undefined && i.code === 'invalid_type';
        return `${i.path.join('.') || name}: ${missing ? 'is required' : i.message}`;
      }),
    ]);
  }
  const config = parsed.data;
  if (ledgerMissing.length > 0) return E.left(ledgerMissing);
  if (config.LEDGER_FILE === undefined) return E.right({ ...config, RELAY_CHECKPOINT_FILE: undefined });
  return E.right({
    ...config,
    RELAY_CHECKPOINT_FILE:
      config.RELAY_CHECKPOINT_FILE ?? path.join(path.dirname(config.LEDGER_FILE), 'relay-checkpoints.db'),
  });
}

export function helpText(): string {
  const width = Math.max(...Object.keys(ENV).map((k) => k.length));
  return [
    'Usage: crm-relay [--help]',
    '',
    "Publishes every event of the ledger's global log to Kafka, from its checkpoint, at least once and in order per",
    'customer (key = customer id, CloudEvents headers, personal data removed). Stops on SIGTERM/SIGINT after the send',
    'in progress. Exit codes: 0 stopped or caught up, 1 an event could not be published (nothing skipped), 2 bad config.',
    '',
    'Configuration (environment):',
    ...Object.entries(ENV).map(([k, v]) => `  ${k.padEnd(width)}  ${v.help}`),
  ].join('\n');
}
