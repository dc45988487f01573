import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresReadModelStore } from './postgres-read-model-store.js';
import { acquireRunnerLock } from './runner-lock.js';
import type { RowChange } from '@crm-ledger/core';
import { demoSpec, ticket } from '@crm-ledger/readmodel-conformance';
import { TEST_POSTGRES_URL, dropSchema, freshSchema, openTestStore } from './test-support.js';

describe('PostgreSQL read-model store (real PostgreSQL, one schema per run)', () => {
  const schema = freshSchema();
  let store: PostgresReadModelStore;

  beforeAll(async () => {
    store = await openTestStore(schema);
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(schema);
  });

  it('migrates once: opening the same schema again applies nothing twice', async () => {
    const again = await openTestStore(schema);
    await again.close();
    const rows = await store.sql({ sqlite: '', postgres: 'SELECT id FROM _migrations ORDER BY id' });
    expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
  });

  it('creates the live tables of a projection, with comments, and reports version changes', async () => {
    expect(await store.ensureProjection(demoSpec())).toEqual({ checkpoint: 0, versionChanged: false });
    const comment = await store.sql({
      sqlite: '',
      postgres: "SELECT obj_description(to_regclass(current_schema() || '.demo_tickets'), 'pg_class') AS c",
    });
    expect(comment).toEqual([{ c: 'One row per ticket' }]);
    expect(await store.ensureProjection(demoSpec())).toEqual({ checkpoint: 0, versionChanged: false });
    expect(await store.ensureProjection(demoSpec(2))).toEqual({ checkpoint: 0, versionChanged: true });
  });

  it('swaps a rebuild in with its indexes and primary key, and leaves nothing in the shadow schema', async () => {
    await store.apply([
      {
        projection: 'demo',
        checkpoint: 10,
        changes: [{ op: 'upsert', table: 'demo_tickets', row: ticket('c1', 't1') }],
      },
    ]);
    await store.beginRebuild(demoSpec(2));
    await store.apply([
      {
        projection: 'demo',
        target: 'shadow',
        checkpoint: 30,
        changes: [{ op: 'upsert', table: 'demo_tickets', row: ticket('r2', 't1') }],
      },
    ]);
    await store.completeRebuild('demo');
    expect(await store.checkpoint('demo')).toBe(30);
    expect(await store.find('demo_tickets', [])).toEqual([ticket('r2', 't1')]);
    // The swapped-in table kept its index and primary key; the shadow schema holds nothing any more.
    const indexes = await store.sql({
      sqlite: '',
      postgres:
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'demo_tickets' ORDER BY 1",
    });
    expect(indexes).toEqual([{ indexname: 'demo_tickets_by_status' }, { indexname: 'demo_tickets_pkey' }]);
    const leftovers = await store.sql({
      sqlite: '',
      postgres: "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() || '__rebuild'",
    });
    expect(leftovers).toEqual([{ n: 0 }]);
  });

  it('runs free SQL in a READ ONLY transaction and counts its ? parameters', async () => {
    await expect(
      store.sql({ sqlite: '', postgres: "INSERT INTO demo_totals VALUES ('x', 1)" }),
    ).rejects.toThrow(/read-only transaction/);
    await expect(store.sql({ sqlite: '', postgres: 'SELECT ?' }, [])).rejects.toThrow(
      /1 parameters, 0 given/,
    );
  });

  it('lets one runner per projection hold the advisory lock; a standby gets it after release', async () => {
    const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 2 });
    try {
      const first = await acquireRunnerLock(store.connectionPool, schema, 'service');
      expect(first).toBeDefined();
      expect(await acquireRunnerLock(pool, schema, 'service')).toBeUndefined();
      const otherProjection = await acquireRunnerLock(pool, schema, 'success');
      expect(otherProjection).toBeDefined();
      await otherProjection!.release();
      await first!.release();
      const standby = await acquireRunnerLock(pool, schema, 'service');
      expect(standby).toBeDefined();
      await standby!.release();
    } finally {
      await pool.end();
    }
  });
  // A write is applied as one upsert and one delete per table (arrays of rows, see applyTable): the rows must be
  // those of applying its changes one by one, in order, however they interleave tables and keys.
  it('applies a write as if its changes ran one by one: the last change of each key wins, across tables', async () => {
    const at = await store.checkpoint('demo');
    const up = (row: ReturnType<typeof ticket>): RowChange => ({ op: 'upsert', table: 'demo_tickets', row });
    const total = (n: number): RowChange => ({
      op: 'upsert',
      table: 'demo_totals',
      row: { customer_id: 'c9', open_tickets: n },
    });
    const del = (id: string): RowChange => ({
      op: 'delete',
      table: 'demo_tickets',
      key: { customer_id: 'c9', ticket_id: id },
    });
    await store.apply([
      {
        projection: 'demo',
        checkpoint: at + 1,
        changes: [
          up(ticket('c9', 't1')),
          total(1),
          up(ticket('c9', 't2')),
          del('t1'),
          total(2),
          up(ticket('c9', 't1', { replies: 3 })),
          del('t2'),
          up(ticket('c9', 't3')),
          { op: 'delete', table: 'demo_totals', key: { customer_id: 'c9' } },
          del('t4'),
        ],
      },
    ]);
    const c9 = [{ column: 'customer_id', op: 'eq' as const, value: 'c9' }];
    expect(await store.find('demo_tickets', c9)).toEqual([
      ticket('c9', 't1', { replies: 3 }),
      ticket('c9', 't3'),
    ]);
    expect(await store.find('demo_totals', c9)).toEqual([]);
    expect(await store.checkpoint('demo')).toBe(at + 1);
  });

  it('treats a key given as a number and as its text as the same row, as the database does', async () => {
    await store.ensureProjection({
      name: 'nums',
      version: 1,
      tables: [
        {
          name: 'nums_rows',
          primaryKey: ['n'],
          columns: [
            { name: 'n', type: 'integer' },
            { name: 'v', type: 'text' },
          ],
        },
      ],
    });
    await store.apply([
      {
        projection: 'nums',
        checkpoint: 1,
        changes: [
          { op: 'upsert', table: 'nums_rows', row: { n: 1, v: 'a' } },
          { op: 'upsert', table: 'nums_rows', row: { n: '2', v: 'a' } },
          { op: 'delete', table: 'nums_rows', key: { n: '1' } },
          { op: 'delete', table: 'nums_rows', key: { n: 2 } },
          { op: 'upsert', table: 'nums_rows', row: { n: 2, v: 'b' } },
        ],
      },
    ]);
    expect(await store.find('nums_rows', [])).toEqual([{ n: 2, v: 'b' }]);
  });
});
