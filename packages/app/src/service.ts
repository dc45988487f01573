import * as E from 'fp-ts/lib/Either.js';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { loadServiceConfig, loggerOptions, type ServiceEnv } from '@crm-ledger/config';
import { processSettingsFrom, startProcess, type LedgerRole, type ProcessSettings } from './assemble.js';
import { privateUmask } from './private-files.js';

/**
 * The settings of a standalone service from the environment, its components' settings checked too; on a wrong
 * value prints one line per wrong variable and exits 2, before anything is opened.
 */
export function serviceSettings(
  name: string,
  env: Record<string, string | undefined>,
): ServiceEnv & { readonly settings: ProcessSettings } {
  const config = loadServiceConfig(env);
  if (E.isLeft(config)) {
    process.stderr.write(`${name}: invalid configuration:\n${config.left.map((l) => `  ${l}`).join('\n')}\n`);
    process.exit(2);
  }
  try {
    return { ...config.right, settings: processSettingsFrom(env) };
  } catch (err) {
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

/** The line a standalone service logs once it listens. */
const LISTENING: Record<LedgerRole, (url: string) => string> = {
  all: (url) => `crm-ledger listening on ${url}`,
  ingest: (url) => `ingest API listening on ${url}`,
  projector: (url) => `projector running, query API listening on ${url}`,
  query: (url) => `query API listening on ${url}`,
};

/**
 * Runs a standalone service: files private, JSON logs, the process of `role` assembled from `config`, stopped
 * gracefully on SIGTERM/SIGINT.
 */
export async function runService(
  name: string,
  role: LedgerRole,
  config: ServiceEnv & { readonly settings: ProcessSettings },
): Promise<void> {
  privateUmask();
  const logger = pino(loggerOptions(name, config.CRM_LEDGER_LOG_LEVEL));
  const ledger = await startProcess({ role, config, settings: config.settings, logger });
  onShutdownSignal(logger, () => ledger.stop());
  logger.info(
    { url: ledger.url, dataDir: ledger.dataDir, adminKeyFile: ledger.adminKeyFile },
    `${LISTENING[role](ledger.url)}; ${ledger.storeDescription}`,
  );
}

/** For a main's last `.catch`: prints why the process could not start and exits 1. */
export const exitOnStartFailure =
  (name: string) =>
  (err: unknown): never => {
    process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };

/**
 * Runs `stop` once on SIGINT/SIGTERM: the server stops accepting, in-flight requests (and their
 * appends) finish, then the store closes. A second signal exits at once.
 */
export function onShutdownSignal(logger: FastifyBaseLogger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
