import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticate, ensureAdminKey, generateApiKey, keyFiles } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from './auth-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = '2024-01-01T00:00:00.000Z';

// What every API-key store does (sharing, revocation, rotation, the append-only access log) is in the conformance
// spec run against SQLite and PostgreSQL: packages/postgres/src/auth-store.conformance.int.spec.ts. Here: the file.
describe('openSqliteAuthStore (real SQLite file)', () => {
  it('creates the first admin key once, in 0600 files, and stores only its hash', async () => {
    const files = keyFiles(path.join(dir, 'a'));
    const auth = openSqliteAuthStore(files.store);
    expect(await ensureAdminKey(auth.keys, files.adminKey, now)).toBe(files.adminKey);
    expect(await ensureAdminKey(auth.keys, files.adminKey, now)).toBeUndefined();
    const key = readFileSync(files.adminKey, 'utf8').trim();
    expect(statSync(files.adminKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.store).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.store).includes(key)).toBe(false);
    expect(E.isRight(await authenticate(auth.keys, key, 'append', now))).toBe(true);
    await auth.close();
  });

  it('imports a legacy api-keys.json once and sets it aside', async () => {
    const d = path.join(dir, 'legacy');
    const { key, record } = generateApiKey('old', ['read'], now);
    const revoked = generateApiKey('gone', ['read'], now);
    await openSqliteAuthStore(path.join(d, 'x.sqlite')).close(); // creates the directory
    writeFileSync(
      path.join(d, 'api-keys.json'),
      JSON.stringify({ version: 1, keys: [record, { ...revoked.record, revokedAt: now }] }),
    );
    const auth = openSqliteAuthStore(keyFiles(d).store);
    expect(E.isRight(await authenticate(auth.keys, key, 'read', now))).toBe(true);
    expect(E.isRight(await authenticate(auth.keys, revoked.key, 'read', now))).toBe(false);
    expect(existsSync(path.join(d, 'api-keys.json'))).toBe(false);
    expect(existsSync(path.join(d, 'api-keys.json.migrated'))).toBe(true);
    await auth.close();
  });
});
