import { chmodSync, existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateApiKey, type ApiKeyStore } from './api-keys.js';

/**
 * Where the data directory keeps API keys (hashes) and the contact access log (`auth.sqlite`), and the first
 * admin key (plain, mode 0600).
 */
export const keyFiles = (dataDir: string) => ({
  store: path.join(dataDir, 'auth.sqlite'),
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
  // written aside first: the key is never stored without its file, nor the file kept without its key
  const pending = `${adminKeyFile}.${process.pid}.pending`;
  writeFileSync(pending, key + '\n', { mode: 0o600 });
  chmodSync(pending, 0o600);
  try {
    // another process (on this host or another sharing the store) may have created the first key meanwhile
    if (!(await keys.addIfEmpty(record))) return undefined;
    renameSync(pending, adminKeyFile);
  } finally {
    if (existsSync(pending)) unlinkSync(pending);
  }
  return adminKeyFile;
}
