import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StartupError } from '@crm-ledger/core';
import type { CustomerKeyStore } from '@crm-ledger/pii';
import { aMasterKey, tempDir } from '@crm-ledger/pii/testing';
import { openSqliteKeyStore } from '@crm-ledger/sqlite';
import { openPostgresKeyStore } from './key-store.js';
import { dropSchema, freshSchema, TEST_POSTGRES_URL } from './read-model/test-support.js';

interface Fixture {
  open: (master: Buffer) => Promise<CustomerKeyStore>;
  cleanup: () => Promise<void>;
}

const sqlite = (): Fixture => {
  const t = tempDir();
  return {
    // opening throws on a wrong master key: the async function turns that into a rejection
    // eslint-disable-next-line @typescript-eslint/require-await
    open: async (master) => openSqliteKeyStore({ file: path.join(t.dir, 'keys.db'), masterKey: master }),
    cleanup: () => Promise.resolve(t.remove()),
  };
};
const postgres = (): Fixture => {
  const schema = freshSchema('keys');
  return {
    open: (master) =>
      openPostgresKeyStore({ connectionString: TEST_POSTGRES_URL, schema, masterKey: master }),
    cleanup: () => dropSchema(schema),
  };
};

describe.each([
  ['SQLite file', sqlite],
  ['PostgreSQL', postgres],
])('customer key store on %s', (_name, make) => {
  const fixtures: Fixture[] = [];
  afterAll(async () => {
    for (const f of fixtures) await f.cleanup();
  });
  const fresh = () => {
    const f = make();
    fixtures.push(f);
    return f;
  };

  it('creates one random 256-bit key per customer and gives the same one back (also after reopening)', async () => {
    const f = fresh();
    const master = aMasterKey();
    const keys = await f.open(master);
    const a = await keys.getOrCreate('c-1');
    const b = await keys.getOrCreate('c-2');
    const again = await keys.getOrCreate('c-1');
    await keys.close();
    const reopened = await f.open(master);
    const read = await reopened.get('c-1');
    await reopened.close();
    if (E.isLeft(a) || E.isLeft(b) || E.isLeft(again) || E.isLeft(read)) throw new Error('expected keys');
    expect(a.right.key).toHaveLength(32);
    expect(a.right.key.equals(b.right.key)).toBe(false);
    expect(again.right.key.equals(a.right.key) && again.right.keyId === a.right.keyId).toBe(true);
    expect(read.right.key.equals(a.right.key)).toBe(true);
  });

  it('destroy is final and idempotent; an erased customer never gets a new key; unknown customers get a tombstone', async () => {
    const keys = await fresh().open(aMasterKey());
    await keys.getOrCreate('c-1');
    expect(await keys.destroy('c-1', '2025-01-01T00:00:00.000Z')).toEqual(
      E.right({ alreadyDestroyed: false }),
    );
    expect(await keys.destroy('c-1', '2025-01-02T00:00:00.000Z')).toEqual(
      E.right({ alreadyDestroyed: true }),
    );
    const gone = { type: 'KeyDestroyed', customerId: 'c-1', destroyedAt: '2025-01-01T00:00:00.000Z' };
    expect(await keys.get('c-1')).toEqual(E.left(gone));
    expect(await keys.getOrCreate('c-1')).toEqual(E.left(gone));
    expect(await keys.get('c-9')).toEqual(E.left({ type: 'KeyNotFound', customerId: 'c-9' }));
    expect(await keys.destroy('c-9', '2025-01-03T00:00:00.000Z')).toEqual(
      E.right({ alreadyDestroyed: false }),
    );
    expect(E.isLeft(await keys.getOrCreate('c-9'))).toBe(true);
    await keys.close();
  });

  it('refuses to open with another master key', async () => {
    const f = fresh();
    const keys = await f.open(aMasterKey());
    await keys.getOrCreate('c-1');
    await keys.close();
    await expect(f.open(aMasterKey())).rejects.toThrow(StartupError);
    await expect(f.open(aMasterKey())).rejects.toThrow(/another master key/);
  });

  it('keeps the shredder checkpoint, never moving it backwards', async () => {
    const keys = await fresh().open(aMasterKey());
    expect(await keys.loadCheckpoint('shredder')).toBe(0);
    await keys.saveCheckpoint('shredder', 42);
    await keys.saveCheckpoint('shredder', 7);
    expect(await keys.loadCheckpoint('shredder')).toBe(42);
    await keys.close();
  });

  it('racing getOrCreate of the same customer ends with one key', async () => {
    const f = fresh();
    const master = aMasterKey();
    const a = await f.open(master);
    const b = await f.open(master);
    const results = await Promise.all([a.getOrCreate('race'), b.getOrCreate('race'), a.getOrCreate('race')]);
    const ids = new Set(results.map((r) => (E.isRight(r) ? r.right.keyId : 'left')));
    expect([...ids]).toHaveLength(1);
    expect(ids.has('left')).toBe(false);
    await a.close();
    await b.close();
  });
});

describe('the PostgreSQL key store keeps its own schema', () => {
  it('creates customer_keys, erased_customers, checkpoints and meta in the schema given', async () => {
    const schema = freshSchema('keys');
    const keys = await openPostgresKeyStore({
      connectionString: TEST_POSTGRES_URL,
      schema,
      masterKey: aMasterKey(),
    });
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [schema],
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        'checkpoints',
        'customer_keys',
        'erased_customers',
        'meta',
      ]);
    } finally {
      await client.end();
      await keys.close();
      await dropSchema(schema);
    }
  });
});
