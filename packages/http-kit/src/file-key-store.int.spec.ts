import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticate, generateApiKey } from './api-keys.js';
import { ensureAdminKey, keyFiles } from './bootstrap.js';
import { fileApiKeyStore } from './file-key-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileApiKeyStore', () => {
  it('creates the first admin key once, in a 0600 file, and stores only its hash', async () => {
    const files = keyFiles(dir);
    const store = fileApiKeyStore(files.store);
    expect(await ensureAdminKey(store, files.adminKey, '2024-01-01T00:00:00Z')).toBe(files.adminKey);
    expect(await ensureAdminKey(store, files.adminKey, '2024-01-01T00:00:00Z')).toBeUndefined();
    const key = readFileSync(files.adminKey, 'utf8').trim();
    expect(statSync(files.adminKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.store).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.store, 'utf8')).not.toContain(key);
    expect((await authenticate(store, key, 'append')).ok).toBe(true);
  });

  it('sees keys added and revoked by another writer (another process) at once', async () => {
    const file = path.join(dir, 'shared.json');
    const server = fileApiKeyStore(file);
    const cli = fileApiKeyStore(file);
    const { key, record } = generateApiKey('late', ['append'], '2024-01-01T00:00:00Z');
    expect((await authenticate(server, key, 'append')).ok).toBe(false);
    await cli.add(record);
    expect((await authenticate(server, key, 'append')).ok).toBe(true);
    await cli.revoke(record.id, '2024-01-02T00:00:00Z');
    expect((await authenticate(server, key, 'append')).ok).toBe(false);
  });
});
