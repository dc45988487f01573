import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticate, ensureAdminKey, generateApiKey, type AuthStore } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { openPostgresAuthStore } from './auth-store.js';
import { dropSchema, freshSchema, TEST_POSTGRES_URL } from './read-model/test-support.js';

/**
 * The one behaviour every API-key store must have (the `AuthStore` port of @crm-ledger/http-kit), run against a
 * real SQLite file and a real PostgreSQL schema. Each fixture opens several instances on the same storage: what
 * two processes (or two hosts) of one deployment see.
 */
interface Fixture {
  open: () => Promise<AuthStore>;
  /** Runs a statement on the storage directly, bypassing the store (as an operator with a SQL shell could). */
  raw: (sql: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

const sqlite = (): Fixture => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-auth-conf-'));
  const file = path.join(dir, 'auth.sqlite');
  return {
    open: () => Promise.resolve(openSqliteAuthStore(file)),
    raw: (sql) => {
      const db = new Database(file);
      try {
        db.prepare(sql).run();
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        db.close();
      }
    },
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
};

const postgres = (): Fixture => {
  const schema = freshSchema('privilege_auth');
  return {
    open: () => openPostgresAuthStore({ connectionString: TEST_POSTGRES_URL, schema }),
    raw: async (sql) => {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    cleanup: () => dropSchema(schema),
  };
};

const now = '2024-01-01T00:00:00.000Z';
const active = async (auth: AuthStore, key: string, at = now): Promise<boolean> =>
  E.isRight(await authenticate(auth.keys, key, 'append', at));

describe.each([
  ['a SQLite file', sqlite],
  ['PostgreSQL', postgres],
])('API-key store on %s', (_name, make) => {
  const fixtures: Fixture[] = [];
  const opened: AuthStore[] = [];
  afterAll(async () => {
    for (const a of opened) await a.close();
    for (const f of fixtures) await f.cleanup();
  });
  const fresh = () => {
    const f = make();
    fixtures.push(f);
    return {
      ...f,
      open: async () => {
        const a = await f.open();
        opened.push(a);
        return a;
      },
    };
  };

  it('stores only the hash: a record read back has the key hash, never the key', async () => {
    const auth = await fresh().open();
    const { key, record } = generateApiKey('shop', ['append', 'read'], now);
    await auth.keys.add(record);
    const listed = await auth.keys.list();
    expect(listed).toEqual([record]);
    expect(JSON.stringify(listed).includes(key)).toBe(false);
    expect(await auth.keys.findById(record.id)).toEqual(record);
    expect(await auth.keys.findById('000000000000')).toBeUndefined();
  });

  it('sees keys added and revoked through another instance (another process or host) at its next lookup', async () => {
    const f = fresh();
    const server = await f.open();
    const cli = await f.open();
    const { key, record } = generateApiKey('late', ['append'], now);
    expect(await active(server, key)).toBe(false);
    await cli.keys.add(record);
    expect(await active(server, key)).toBe(true);
    expect(await cli.keys.revoke(record.id, now)).toBe(true);
    expect(await cli.keys.revoke(record.id, now)).toBe(false);
    expect(await active(server, key)).toBe(false);
    expect((await server.keys.findById(record.id))?.revokedAt).toBe(now);
  });

  it('creates exactly one first admin key when several processes start at once', async () => {
    const f = fresh();
    const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-admin-'));
    try {
      const stores = await Promise.all([f.open(), f.open(), f.open()]);
      const written = await Promise.all(
        stores.map((s, i) => ensureAdminKey(s.keys, path.join(dir, `host${i}`, 'admin.key'), now)),
      );
      const files = written.filter((w): w is string => w !== undefined);
      expect(files).toHaveLength(1);
      const keys = await stores[0].keys.list();
      expect(keys.map((k) => k.scopes)).toEqual([['admin']]);
      const key = readFileSync(files[0]!, 'utf8').trim();
      expect(E.isRight(await authenticate(stores[2].keys, key, 'erase', now))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never loses a write when instances create and revoke keys at the same time', async () => {
    const f = fresh();
    const [a, b] = [await f.open(), await f.open()];
    const victim = generateApiKey('victim', ['append'], now);
    await a.keys.add(victim.record);
    const created = Array.from({ length: 20 }, (_, i) => generateApiKey(`k${i}`, ['read'], now));
    const revocations = [a, b, a, b].map((s) => s.keys.revoke(victim.record.id, now));
    await Promise.all([...created.map((c, i) => (i % 2 === 0 ? a : b).keys.add(c.record)), ...revocations]);
    // exactly one revocation took effect, and every key created meanwhile is there
    expect((await Promise.all(revocations)).filter(Boolean)).toHaveLength(1);
    expect(await active(b, victim.key)).toBe(false);
    expect((await a.keys.list()).map((k) => k.id).sort()).toEqual(
      [victim.record.id, ...created.map((c) => c.record.id)].sort(),
    );
  });

  it('refuses expired keys, records last use, and rotates atomically', async () => {
    const auth = await fresh().open();
    const { key, record } = generateApiKey('shop', ['append'], now);
    await auth.keys.add({ ...record, expiresAt: '2024-02-01T00:00:00.000Z' });
    expect(await active(auth, key, '2024-01-31T23:59:59.000Z')).toBe(true);
    expect(await authenticate(auth.keys, key, 'append', '2024-02-01T00:00:00.000Z')).toEqual(
      E.left({ type: 'UnknownKey' }),
    );
    await auth.keys.markUsed(record.id, '2024-01-15T00:00:00.000Z');
    expect((await auth.keys.findById(record.id))?.lastUsedAt).toBe('2024-01-15T00:00:00.000Z');

    const next = generateApiKey('shop', ['append'], now);
    expect(await auth.keys.rotate(record.id, next.record, '2024-01-10T00:00:00.000Z')).toBe(true);
    expect(await active(auth, key, '2024-01-10T00:00:00.000Z')).toBe(false);
    expect(await active(auth, next.key, '2024-01-10T00:00:00.000Z')).toBe(true);
    await auth.keys.revoke(next.record.id, now);
    const third = generateApiKey('shop', ['append'], now);
    expect(await auth.keys.rotate(next.record.id, third.record, now)).toBe(false);
    expect(await auth.keys.findById(third.record.id)).toBeUndefined();
    expect(await auth.keys.rotate('000000000000', third.record, now)).toBe(false);
  });

  it('refuses a record that is not a valid key record, storing nothing', async () => {
    const auth = await fresh().open();
    const { record } = generateApiKey('bad', ['read'], now);
    await expect(auth.keys.add({ ...record, hash: 'not-a-hash' })).rejects.toThrow();
    await expect(auth.keys.add({ ...record, scopes: [] })).rejects.toThrow();
    expect(await auth.keys.list()).toEqual([]);
  });

  it('keeps an append-only contact access log that refuses updates and deletes', async () => {
    const f = fresh();
    const [a, b] = [await f.open(), await f.open()];
    await a.accessLog.record({ at: now, keyId: 'abcdefabcdef', customerId: 'c1', fields: ['email'] });
    await b.accessLog.record({ at: now, keyId: 'abcdefabcdef', customerId: 'c2', fields: ['name', 'phone'] });
    expect(await a.accessLog.list({ customerId: 'c1' })).toEqual([
      { at: now, keyId: 'abcdefabcdef', customerId: 'c1', fields: ['email'] },
    ]);
    expect(await b.accessLog.list({ customerId: 'c2' })).toEqual([
      { at: now, keyId: 'abcdefabcdef', customerId: 'c2', fields: ['name', 'phone'] },
    ]);
    await expect(f.raw('DELETE FROM contact_access_log')).rejects.toThrow(/append-only/);
    await expect(f.raw("UPDATE contact_access_log SET customer_id = 'x'")).rejects.toThrow(/append-only/);
    expect((await a.accessLog.list()).map((e) => e.customerId)).toEqual(['c1', 'c2']);
  });
});
