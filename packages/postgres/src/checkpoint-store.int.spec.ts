import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresCheckpointStore } from './read-model/postgres-read-model-store.js';
import { TEST_POSTGRES_URL, dropSchema, freshSchema } from './read-model/test-support.js';

describe('PostgreSQL checkpoint store (real PostgreSQL)', () => {
  const schema = freshSchema('cp');
  afterAll(() => dropSchema(schema));

  it('starts at 0, saves, never moves backwards, and survives reopening', async () => {
    const a = await openPostgresCheckpointStore({ connectionString: TEST_POSTGRES_URL, schema });
    expect(await a.load('relay')).toBe(0);
    await a.save('relay', 4_096);
    await a.save('relay', 1_024);
    expect(await a.load('relay')).toBe(4_096);
    await a.save('relay', 2 ** 40);
    await a.save('exporter', 7);
    await a.close();
    const b = await openPostgresCheckpointStore({ connectionString: TEST_POSTGRES_URL, schema });
    expect([await b.load('relay'), await b.load('exporter')]).toEqual([2 ** 40, 7]);
    await expect(b.save('relay', -1)).rejects.toThrow(RangeError);
    await b.close();
  });

  it('tryLock: one holder per name across stores; freed by release and by the end of the holding session', async () => {
    const a = await openPostgresCheckpointStore({ connectionString: TEST_POSTGRES_URL, schema });
    const b = await openPostgresCheckpointStore({ connectionString: TEST_POSTGRES_URL, schema });
    try {
      const held = await a.tryLock('relay');
      expect(held).toBeDefined();
      expect(await b.tryLock('relay')).toBeUndefined();
      const other = await b.tryLock('exporter'); // another name is another lock
      expect(other).toBeDefined();
      await other!.release();
      await held!.release();
      const taken = await b.tryLock('relay');
      expect(taken).toBeDefined();
      // the holder's session is killed (as when its process dies): the lock is free and the holder is told
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext($1)::oid AND pid <> pg_backend_pid()`,
          [`crm-ledger:checkpoint:${schema}:relay`],
        );
      } finally {
        await admin.end();
      }
      for (let i = 0; i < 100 && !taken!.lost.aborted; i++) await new Promise((r) => setTimeout(r, 20));
      expect(taken!.lost.aborted).toBe(true);
      const again = await a.tryLock('relay');
      expect(again).toBeDefined();
      await again!.release();
      await taken!.release();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
