import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { LedgerEnv, loadConfig } from '@crm-ledger/config';
import { KAFKA_ENV_HELP, KafkaEnv, envPositiveInt } from '@crm-ledger/kafka';

/** The relay's settings: the shared ones (data directory, log level, Kafka) and its own. */
export const RelayEnv = LedgerEnv.pick({
  CRM_LEDGER_DATA_DIR: true,
  CRM_LEDGER_LOG_LEVEL: true,
})
  .extend(KafkaEnv.shape)
  .extend({
    CRM_LEDGER_RELAY_NAME: z.string().trim().min(1).max(100).default('kafka-relay'),
    CRM_LEDGER_RELAY_CHECKPOINT_FILE: z.string().trim().min(1).optional(),
    CRM_LEDGER_RELAY_MODE: z.enum(['follow', 'catch-up']).default('follow'),
    CRM_LEDGER_RELAY_BATCH_SIZE: envPositiveInt('a positive whole number').default(2000),
    CRM_LEDGER_RELAY_MAX_SEND_BYTES: envPositiveInt('a positive whole number').default(900_000),
    CRM_LEDGER_RELAY_RETRIES: z
      .string()
      .regex(/^\d+$/, 'must be a whole number from 0 to 100')
      .transform(Number)
      .pipe(z.int().max(100, 'must be a whole number from 0 to 100'))
      .default(8),
  });

const HELP: Readonly<Record<keyof z.output<typeof RelayEnv>, string>> = {
  CRM_LEDGER_DATA_DIR: 'data directory; the ledger is its ledger.sqlite (default ./.data)',
  CRM_LEDGER_LOG_LEVEL: 'pino level (default info)',
  ...KAFKA_ENV_HELP,
  CRM_LEDGER_RELAY_NAME: 'checkpoint name: one per relay and target cluster (default kafka-relay)',
  CRM_LEDGER_RELAY_CHECKPOINT_FILE:
    'SQLite file of the checkpoint (default <data dir>/relay-checkpoints.sqlite)',
  CRM_LEDGER_RELAY_MODE: 'follow (wait for new events, default) or catch-up (exit 0 at the end of the log)',
  CRM_LEDGER_RELAY_BATCH_SIZE: 'events read from the ledger per page (default 2000)',
  CRM_LEDGER_RELAY_MAX_SEND_BYTES:
    'largest send to the broker, bytes (default 900000, under the 1 MiB limit)',
  CRM_LEDGER_RELAY_RETRIES:
    'retries of a failed send before the relay stops (default 8, back-off up to 30 s)',
};

export type RelayConfig = z.output<typeof RelayEnv> & {
  /** The SQLite ledger: `ledger.sqlite` in the data directory, as every crm-ledger process names it. */
  readonly ledgerFile: string;
  readonly checkpointFile: string;
};

/** Parses the environment once at start-up; a `Left` names every wrong variable. */
export function parseConfig(env: Record<string, string | undefined>): E.Either<string[], RelayConfig> {
  return E.map((config: z.output<typeof RelayEnv>) => {
    const dataDir = path.resolve(config.CRM_LEDGER_DATA_DIR);
    return {
      ...config,
      ledgerFile: path.join(dataDir, 'ledger.sqlite'),
      checkpointFile:
        config.CRM_LEDGER_RELAY_CHECKPOINT_FILE ?? path.join(dataDir, 'relay-checkpoints.sqlite'),
    };
  })(loadConfig(RelayEnv, env));
}

export function helpText(): string {
  const width = Math.max(...Object.keys(HELP).map((k) => k.length));
  return [
    'Usage: crm-relay [--help]',
    '',
    "Publishes every event of the ledger's global log to Kafka, from its checkpoint, at least once and in order per",
    'customer (key = customer id, CloudEvents headers, personal data removed). Stops on SIGTERM/SIGINT after the send',
    'in progress. Exit codes: 0 stopped or caught up, 1 an event could not be published (nothing skipped), 2 bad config.',
    '',
    'Configuration (environment):',
    ...Object.entries(HELP).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ].join('\n');
}
