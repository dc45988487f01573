import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ApiKeyRecord, type ApiKeyStore } from './api-keys.js';

const KeyFile = z.strictObject({ version: z.literal(1), keys: z.array(ApiKeyRecord) });

/**
 * API keys in one JSON file (`<dataDir>/api-keys.json`, mode 0600), holding only SHA-256 hashes.
 * Chosen over a table in the event store's SQLite file so keys work whatever event store is configured,
 * and over a separate SQLite file because a handful of keys needs no database. Writes go to a temporary
 * file renamed over the old one (atomic on POSIX). Readers re-read the file when its modification time
 * or size changes, so `crm-ledger keys create|revoke` takes effect in a running server at once.
 */
export function fileApiKeyStore(file: string): ApiKeyStore {
  let cache: { mtimeMs: number; size: number; keys: ApiKeyRecord[] } | undefined;

  const load = (): ApiKeyRecord[] => {
    let st;
    try {
      st = statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    if (cache !== undefined && cache.mtimeMs === st.mtimeMs && cache.size === st.size) return cache.keys;
    const parsed = KeyFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file} is not a valid key file: ${parsed.error.message}`);
    cache = { mtimeMs: st.mtimeMs, size: st.size, keys: parsed.data.keys };
    return parsed.data.keys;
  };

  const save = (keys: ApiKeyRecord[]): void => {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, keys }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
    cache = undefined;
  };

  return {
    list: () => Promise.resolve(load()),
    findById: (id) => Promise.resolve(load().find((k) => k.id === id)),
    add: (record) => {
      save([...load(), record]);
      return Promise.resolve();
    },
    revoke: (id, at) => {
      const keys = load();
      const found = keys.some((k) => k.id === id && k.revokedAt === undefined);
      if (found) save(keys.map((k) => (k.id === id ? { ...k, revokedAt: at } : k)));
      return Promise.resolve(found);
    },
  };
}
