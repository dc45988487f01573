import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresReadModelStore } from './postgres-read-model-store.js';
import { projectionLockKey } from './projection-locks.js';
import { dropSchema, freshSchema, openTestStore, TEST_POSTGRES_URL } from './test-support.js';

// Two stores on one schema stand for two projector processes: each has its own lock session.
describe('projection locks (PostgreSQL advisory locks on a dedicated session)', () => {
  const schema = freshSchema('locks');
  let one: PostgresReadModelStore;
  let two: PostgresReadModelStore;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });

  beforeAll(async () => {
    one = await openTestStore(schema);
    two = await openTestStore(schema);
    await admin.connect();
  });
  afterAll(async () => {
    await one.close();
    await two.close();
    await admin.end();
    await dropSchema(schema);
  });

  const holderPid = async (projection: string): Promise<number | undefined> => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid::bigint = (hashtext($1)::bigint & 4294967295)`,
      [projectionLockKey(schema, projection)],
    );
    return rows[0]?.pid;
  };

  it('one holder per projection; other projections are independent; release hands it over', async () => {
    const a = await one.tryLockProjection('service');
    expect(a).toBeDefined();
    expect(await two.tryLockProjection('service')).toBeUndefined();
    expect(await one.tryLockProjection('service')).toBeUndefined(); // not twice in one process either
    const other = await two.tryLockProjection('success');
    expect(other).toBeDefined();
    await a!.release();
    const b = await two.tryLockProjection('service');
    expect(b).toBeDefined();
    await b!.release();
    await other!.release();
    expect(await holderPid('service')).toBeUndefined();
  });

  it('the key is per schema: the same projection in another deployment is another lock', async () => {
    const otherSchema = freshSchema('locks');
    const elsewhere = await openTestStore(otherSchema);
    try {
      const a = await one.tryLockProjection('value');
      const b = await elsewhere.tryLockProjection('value');
      expect(a).toBeDefined();
      expect(b).toBeDefined();
      await a!.release();
      await b!.release();
    } finally {
      await elsewhere.close();
      await dropSchema(otherSchema);
    }
  });

  it('when the holding session dies, its lock is signalled lost and a standby takes it', async () => {
    const a = await one.tryLockProjection('experience');
    expect(a).toBeDefined();
    expect(await two.tryLockProjection('experience')).toBeUndefined();
    const pid = await holderPid('experience');
    expect(pid).toBeDefined();
    const lost = new Promise<void>((resolve) => a!.lost.addEventListener('abort', () => resolve()));
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await lost;
    expect(a!.lost.aborted).toBe(true);
    // The client hears of the termination as the server backend exits, which is when the lock goes: a standby
    // retries, as the projector's does every few seconds.
    let b = await two.tryLockProjection('experience');
    for (let i = 0; b === undefined && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      b = await two.tryLockProjection('experience');
    }
    expect(b).toBeDefined();
    await b!.release();
    await a!.release(); // harmless after the loss
    // The store that lost its session opens a new one on the next attempt.
    const again = await one.tryLockProjection('experience');
    expect(again).toBeDefined();
    await again!.release();
  });
});
