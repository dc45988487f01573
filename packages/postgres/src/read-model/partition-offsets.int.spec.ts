import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSpec, ticket } from '@crm-ledger/readmodel-conformance';
import {
  isPartitionOffsetMoved,
  type PartitionBatchWrite,
  type PostgresReadModelStore,
} from './postgres-read-model-store.js';
import { TEST_POSTGRES_URL, dropSchema, freshSchema, openTestStore } from './test-support.js';

// The Kafka mode's write (issue 17): a batch's rows, its partition's new offset and a history row in one
// transaction, fenced by the stored offset.
describe('applyPartitionBatch (real PostgreSQL)', () => {
  const schema = freshSchema('partoff');
  let store: PostgresReadModelStore;
  const batch = (
    over: Partial<PartitionBatchWrite> & Pick<PartitionBatchWrite, 'fromOffset' | 'toOffset'>,
  ): PartitionBatchWrite => ({
    group: 'g',
    topic: 't',
    partition: 3,
    position: over.toOffset * 10,
    events: over.toOffset - over.fromOffset,
    instance: 'test',
    writes: [],
    ...over,
  });
  const rows = async (): Promise<number> =>
    (await store.find('demo_tickets', [{ column: 'customer_id', op: 'in', values: ['c1', 'c2', 'c3'] }]))
      .length;

  beforeAll(async () => {
    store = await openTestStore(schema);
    await store.ensureProjection(demoSpec());
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(schema);
  });

  it('writes rows, offsets and history together; refuses a batch that does not start at the stored offset, writing nothing', async () => {
    expect((await store.partitionOffsets('g', 't')).size).toBe(0);
    const rowsOf = (customer: string) => [
      {
        projection: 'demo',
        changes: [{ op: 'upsert' as const, table: 'demo_tickets', row: ticket(customer, 'k1') }],
        checkpoint: 0,
      },
    ];
    await store.applyPartitionBatch(batch({ fromOffset: 0, toOffset: 5, writes: rowsOf('c1') }));
    expect(await store.partitionOffsets('g', 't')).toEqual(new Map([[3, { nextOffset: 5, position: 50 }]]));
    // A second writer that read offset 0 before the first one committed: refused, its rows not written.
    const stale = await store
      .applyPartitionBatch(batch({ fromOffset: 0, toOffset: 4, writes: rowsOf('c2') }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isPartitionOffsetMoved(stale)).toBe(true);
    expect(await rows()).toBe(1);
    // A batch beyond the stored offset (a gap) is refused too.
    const gap = await store
      .applyPartitionBatch(batch({ fromOffset: 6, toOffset: 8, writes: rowsOf('c2') }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isPartitionOffsetMoved(gap)).toBe(true);
    // A batch whose rows fail rolls back its offset and history too.
    const broken = [
      {
        projection: 'demo',
        changes: [{ op: 'upsert' as const, table: 'demo_tickets', row: { ...ticket('c3', 'k1'), nope: 1 } }],
        checkpoint: 0,
      },
    ];
    await expect(
      store.applyPartitionBatch(batch({ fromOffset: 5, toOffset: 9, writes: broken })),
    ).rejects.toThrow();
    expect((await store.partitionOffsets('g', 't')).get(3)?.nextOffset).toBe(5);
    await store.applyPartitionBatch(batch({ fromOffset: 5, toOffset: 9, writes: rowsOf('c3') }));
    expect(await rows()).toBe(2);
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    try {
      const { rows: history } = await c.query<{ from_offset: string; to_offset: string }>(
        `SELECT from_offset, to_offset FROM "${schema}"._partition_offset_history ORDER BY id`,
      );
      expect(history.map((h) => [Number(h.from_offset), Number(h.to_offset)])).toEqual([
        [0, 5],
        [5, 9],
      ]);
    } finally {
      await c.end();
    }
  });

  it('two writers racing for the same offsets: exactly one wins', async () => {
    const results = await Promise.allSettled(
      [0, 1, 2, 3].map(() => store.applyPartitionBatch(batch({ partition: 7, fromOffset: 0, toOffset: 10 }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isPartitionOffsetMoved(r.reason)).toBe(true);
    expect((await store.partitionOffsets('g', 't')).get(7)).toEqual({ nextOffset: 10, position: 100 });
  });
});
