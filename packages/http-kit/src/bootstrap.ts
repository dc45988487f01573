import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { generateApiKey, type ApiKeyStore } from './api-keys.js';

/** Where the data directory keeps API keys (hashes) and the first admin key (plain, mode 0600). */
export const keyFiles = (dataDir: string) => ({
  store: path.join(dataDir, 'api-keys.json'),
  adminKey: path.join(dataDir, 'admin.key'),
});

/**
 * On first start (no key stored at all) creates an `admin` key and writes it to `adminKeyFile`
 * (mode 0600): the one time a key is on disk in clear, so a local user can start using the API.
 * Returns the file written, or undefined when keys existed already.
 */
export async function ensureAdminKey(
  keys: ApiKeyStore,
  adminKeyFile: string,
  now: string,
): Promise<string | undefined> {
  if ((await keys.list()).length > 0) return undefined;
  const { key, record } = generateApiKey('admin (first start)', ['admin'], now);
  mkdirSync(path.dirname(adminKeyFile), { recursive: true });
  if (existsSync(adminKeyFile)) chmodSync(adminKeyFile, 0o600);
  writeFileSync(adminKeyFile, key + '\n', { mode: 0o600 });
  chmodSync(adminKeyFile, 0o600);
  await keys.add(record);
  return adminKeyFile;
}

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
