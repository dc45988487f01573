import pg from 'pg';
import type { Row } from '@crm-ledger/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresReadModelStore } from './postgres-read-model-store.js';
import { acquireRunnerLock } from './runner-lock.js';
import { TEST_POSTGRES_URL, dropSchema, freshSchema, openTestStore, ticketsSpec } from './test-support.js';

const ticket = (
  customer: string,
  id: string,
  extra: Partial<Record<string, string | number | null>> = {},
): Row => ({
  customer_id: customer,
  ticket_id: id,
  status: 'open',
  priority: 'normal',
  replies: 0,
  first_reply_hours: null,
  ...extra,
});

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
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('creates the live tables of a projection, with comments, and reports version changes', async () => {
    expect(await store.ensureProjection(ticketsSpec())).toEqual({ checkpoint: 0, versionChanged: false });
    const comment = await store.sql({
      sqlite: '',
      postgres: "SELECT obj_description(to_regclass(current_schema() || '.tickets'), 'pg_class') AS c",
    });
    expect(comment).toEqual([{ c: 'One row per ticket' }]);
    expect(await store.ensureProjection(ticketsSpec())).toEqual({ checkpoint: 0, versionChanged: false });
    expect(await store.ensureProjection(ticketsSpec(2))).toEqual({ checkpoint: 0, versionChanged: true });
  });

  it('applies rows and checkpoint in one transaction, changes in order, last upsert of a key wins', async () => {
    await store.apply([
      {
        projection: 'service',
        checkpoint: 10,
        changes: [
          { op: 'upsert', table: 'tickets', row: ticket('c1', 't1') },
          { op: 'upsert', table: 'tickets', row: ticket('c1', 't2') },
          { op: 'upsert', table: 'tickets', row: ticket('c1', 't1', { status: 'resolved', replies: 2 }) },
          { op: 'upsert', table: 'service_totals', row: { customer_id: 'c1', open_tickets: 1 } },
          { op: 'delete', table: 'tickets', key: { customer_id: 'c1', ticket_id: 't2' } },
          { op: 'upsert', table: 'tickets', row: ticket('c1', 't2', { status: 'reopened' }) },
        ],
      },
    ]);
    expect(await store.checkpoint('service')).toBe(10);
    expect(await store.find('tickets', [{ column: 'customer_id', op: 'eq', value: 'c1' }])).toEqual([
      ticket('c1', 't1', { status: 'resolved', replies: 2 }),
      ticket('c1', 't2', { status: 'reopened' }),
    ]);
    expect(await store.get('service_totals', { customer_id: 'c1' })).toEqual({
      customer_id: 'c1',
      open_tickets: 1,
    });
  });

  it('rejects a checkpoint that does not move forward, and writes nothing of that apply', async () => {
    await expect(
      store.apply([
        {
          projection: 'service',
          checkpoint: 11,
          changes: [{ op: 'upsert', table: 'tickets', row: ticket('c9', 'x') }],
        },
        { projection: 'service', checkpoint: 11, changes: [] },
      ]),
    ).rejects.toThrow(/not after the stored 11/);
    expect(await store.checkpoint('service')).toBe(10);
    expect(await store.get('tickets', { customer_id: 'c9', ticket_id: 'x' })).toBeUndefined();
  });

  it('rejects the whole apply with CheckpointMoved when the stored checkpoint is not the expected one', async () => {
    await expect(
      store.apply([
        {
          projection: 'service',
          checkpoint: 15,
          expectedCheckpoint: 7,
          changes: [{ op: 'upsert', table: 'tickets', row: ticket('c8', 'x') }],
        },
      ]),
    ).rejects.toMatchObject({ name: 'CheckpointMoved', expected: 7, actual: 10 });
    expect(await store.get('tickets', { customer_id: 'c8', ticket_id: 'x' })).toBeUndefined();
  });

  it('rolls back everything when a row breaks the table (NOT NULL), checkpoint included', async () => {
    await expect(
      store.apply([
        {
          projection: 'service',
          checkpoint: 12,
          changes: [
            { op: 'upsert', table: 'service_totals', row: { customer_id: 'c2', open_tickets: 5 } },
            { op: 'upsert', table: 'tickets', row: { customer_id: 'c2', ticket_id: 't', replies: 0 } },
          ],
        },
      ]),
    ).rejects.toThrow(/null value/);
    expect(await store.checkpoint('service')).toBe(10);
    expect(await store.get('service_totals', { customer_id: 'c2' })).toBeUndefined();
  });

  it('serialises two stores applying the same projection: the stale checkpoint loses', async () => {
    const other = await openTestStore(schema);
    try {
      const write = (s: PostgresReadModelStore, status: string) =>
        s.apply([
          {
            projection: 'service',
            checkpoint: 20,
            changes: [{ op: 'upsert', table: 'tickets', row: ticket('c3', 't', { status }) }],
          },
        ]);
      const results = await Promise.allSettled([write(store, 'a'), write(other, 'b')]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(await store.checkpoint('service')).toBe(20);
    } finally {
      await other.close();
    }
  });

  it('rebuilds into shadow tables while live ones are served, then swaps them in atomically', async () => {
    await store.beginRebuild(ticketsSpec(2));
    expect(await store.rebuildInProgress('service')).toBe(true);
    expect(await store.checkpoint('service', 'shadow')).toBe(0);
    await store.apply([
      {
        projection: 'service',
        target: 'shadow',
        checkpoint: 25,
        changes: [{ op: 'upsert', table: 'tickets', row: ticket('r1', 't1') }],
      },
    ]);
    expect(await store.find('tickets', [], 'shadow')).toEqual([ticket('r1', 't1')]);
    // Live is untouched while the rebuild runs.
    expect((await store.find('tickets', [])).map((r) => r.customer_id)).toEqual(['c1', 'c1', 'c3']);
    // A rebuild restarted from scratch drops what the previous attempt wrote.
    await store.beginRebuild(ticketsSpec(2));
    expect(await store.find('tickets', [], 'shadow')).toEqual([]);
    await store.apply([
      {
        projection: 'service',
        target: 'shadow',
        checkpoint: 30,
        changes: [{ op: 'upsert', table: 'tickets', row: ticket('r2', 't1') }],
      },
    ]);
    await store.completeRebuild('service');
    expect(await store.rebuildInProgress('service')).toBe(false);
    expect(await store.checkpoint('service')).toBe(30);
    expect(await store.find('tickets', [])).toEqual([ticket('r2', 't1')]);
    expect(await store.list('service_totals', { limit: 10 })).toEqual({ rows: [] });
    expect(await store.ensureProjection(ticketsSpec(2))).toEqual({ checkpoint: 30, versionChanged: false });
    // The swapped-in table kept its index and primary key; the shadow schema holds nothing any more.
    const indexes = await store.sql({
      sqlite: '',
      postgres:
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickets' ORDER BY 1",
    });
    expect(indexes).toEqual([{ indexname: 'tickets_by_status' }, { indexname: 'tickets_pkey' }]);
    const leftovers = await store.sql({
      sqlite: '',
      postgres: "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() || '__rebuild'",
    });
    expect(leftovers).toEqual([{ n: 0 }]);
  });

  it('an aborted rebuild leaves the live tables as they were', async () => {
    await store.beginRebuild(ticketsSpec(3));
    await store.apply([{ projection: 'service', target: 'shadow', checkpoint: 1, changes: [] }]);
    await store.abortRebuild('service');
    expect(await store.rebuildInProgress('service')).toBe(false);
    expect(await store.checkpoint('service')).toBe(30);
    expect(await store.find('tickets', [])).toEqual([ticket('r2', 't1')]);
    await expect(store.completeRebuild('service')).rejects.toThrow(/no rebuild/);
  });

  it('lists with filters, sorts (NULLs first ascending, last descending) and a stable keyset cursor', async () => {
    const rows = Array.from({ length: 23 }, (_, i) =>
      ticket(`p${i % 4}`, `t${String(i).padStart(2, '0')}`, {
        priority: i % 5 === 0 ? null : ['low', 'high', 'urgent'][i % 3]!,
        replies: i % 7,
      }),
    );
    await store.apply([
      {
        projection: 'service',
        checkpoint: 40,
        changes: rows.map((row) => ({ op: 'upsert' as const, table: 'tickets', row })),
      },
    ]);
    const pageAll = async (orderBy: { column: string; direction: 'asc' | 'desc' }[]) => {
      const seen: Row[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list('tickets', {
          where: [{ column: 'customer_id', op: 'in', values: ['p0', 'p1', 'p2', 'p3'] }],
          orderBy,
          limit: 4,
          ...(cursor === undefined ? {} : { cursor }),
        });
        expect(page.rows.length).toBeLessThanOrEqual(4);
        seen.push(...page.rows);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return seen;
    };
    const byKey = (a: Row, b: Row) =>
      String(a.customer_id).localeCompare(String(b.customer_id)) ||
      String(a.ticket_id).localeCompare(String(b.ticket_id));
    const nullsFirst = (a: Row, b: Row) =>
      a.priority === b.priority
        ? 0
        : a.priority === null
          ? -1
          : b.priority === null
            ? 1
            : String(a.priority) < String(b.priority)
              ? -1
              : 1;

    const asc = await pageAll([{ column: 'priority', direction: 'asc' }]);
    expect(asc).toEqual([...rows].sort((a, b) => nullsFirst(a, b) || byKey(a, b)));
    const desc = await pageAll([
      { column: 'priority', direction: 'desc' },
      { column: 'replies', direction: 'desc' },
    ]);
    expect(desc).toEqual(
      [...rows].sort((a, b) => nullsFirst(b, a) || Number(b.replies) - Number(a.replies) || byKey(a, b)),
    );
    await expect(store.list('tickets', { limit: 2, cursor: 'bm9wZQ' })).rejects.toThrow(/invalid cursor/);
    await expect(
      store.list('tickets', { limit: 2, where: [{ column: 'nope', op: 'eq', value: 1 }] }),
    ).rejects.toThrow(/not a column/);
  });

  it('aggregates with groups and filters; numbers come back as numbers', async () => {
    const rows = await store.aggregate('tickets', {
      where: [{ column: 'customer_id', op: 'in', values: ['p0', 'p1'] }],
      groupBy: ['customer_id'],
      measures: [
        { as: 'n', fn: 'count' },
        { as: 'total_replies', fn: 'sum', column: 'replies' },
        { as: 'avg_replies', fn: 'avg', column: 'replies' },
        { as: 'max_replies', fn: 'max', column: 'replies' },
        { as: 'with_priority', fn: 'count', column: 'priority' },
      ],
    });
    const expected = ['p0', 'p1'].map((c) => {
      const mine = Array.from({ length: 23 }, (_, i) => i).filter((i) => `p${i % 4}` === c);
      const replies = mine.map((i) => i % 7);
      return {
        customer_id: c,
        n: mine.length,
        total_replies: replies.reduce((a, b) => a + b, 0),
        avg_replies: replies.reduce((a, b) => a + b, 0) / mine.length,
        max_replies: Math.max(...replies),
        with_priority: mine.filter((i) => i % 5 !== 0).length,
      };
    });
    expect(rows.map((r) => ({ ...r, avg_replies: Number(Number(r.avg_replies).toFixed(9)) }))).toEqual(
      expected.map((r) => ({ ...r, avg_replies: Number(r.avg_replies.toFixed(9)) })),
    );
  });

  it('runs free SQL read-only, on the deployment schema, with ? parameters', async () => {
    const rows = await store.sql(
      {
        sqlite: 'unused',
        postgres:
          "SELECT customer_id, count(*) AS n, 'why?' AS literal FROM tickets WHERE replies >= ? GROUP BY customer_id HAVING count(*) > ? ORDER BY customer_id",
      },
      [3, 2],
    );
    expect(rows.every((r) => r.literal === 'why?' && typeof r.n === 'number')).toBe(true);
    expect(rows.length).toBeGreaterThan(0);
    await expect(
      store.sql({ sqlite: '', postgres: "INSERT INTO service_totals VALUES ('x', 1)" }),
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
});
