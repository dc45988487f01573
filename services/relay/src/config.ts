import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { environmentHelp, loadProgramConfig, programSchema } from '@crm-ledger/config';

/** The relay's settings: those of SETTINGS (@crm-ledger/config) used by `relay`. */
export const RelayEnv = programSchema('relay');

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
  })(loadProgramConfig('relay', env));
}

export function helpText(): string {
  return [
    'Usage: crm-relay [--help]',
    '',
    "Publishes every event of the ledger's global log to Kafka, from its checkpoint, at least once and in order per",
    'customer (key = customer id, CloudEvents headers, personal data removed). Stops on SIGTERM/SIGINT after the send',
    'in progress. Exit codes: 0 stopped or caught up, 1 an event could not be published (nothing skipped), 2 bad config.',
    '',
    environmentHelp('relay'),
  ].join('\n');
}
