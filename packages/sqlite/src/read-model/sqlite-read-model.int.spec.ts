import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProjectionSpec } from '@crm-ledger/core';
import { openSqliteReadModel, type SqliteReadModel } from './sqlite-read-model.js';

const spec: ProjectionSpec = {
  name: 'demo',
  version: 1,
  tables: [
    {
      name: 'demo_customers',
      columns: [
        { name: 'customer_id', type: 'text' },
        { name: 'segment', type: 'text', nullable: true },
        { name: 'revenue', type: 'integer' },
      ],
      primaryKey: ['customer_id'],
      indexes: [{ name: 'demo_customers_segment', columns: ['segment'] }],
    },
  ],
};

const row = (id: string, segment: string | null, revenue: number) => ({
  op: 'upsert' as const,
  table: 'demo_customers',
  row: { customer_id: id, segment, revenue },
});

// The generic cases (rows and checkpoint, CheckpointMoved, reopening, lists and cursors, rebuilds) run in the
// read-model conformance suite (conformance.int.spec.ts); these are the SQLite adapter's own.
describe('SqliteReadModel', () => {
  let dir: string;
  let store: SqliteReadModel;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'readmodel-'));
    store = openSqliteReadModel({ file: path.join(dir, 'rm.sqlite') });
    await store.ensureProjection(spec);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('partitioned rebuild: each partition keeps its own shadow checkpoint, the rows share the tables, the end sets the rebuild checkpoint', async () => {
    const file = path.join(dir, 'rm.sqlite');
    await store.beginRebuild(spec);
    await store.apply([
      { projection: 'demo', target: 'shadow', checkpoint: 4, changes: [row('z', null, 1)] },
    ]);
    store.beginPartitions('demo', 2);
    expect(store.partitionsOf('demo')).toBe(2);
    store.beginPartitions('demo', 2); // an interrupted rebuild with the same count keeps its partitions
    expect(() => store.beginPartitions('demo', 3)).toThrow(/split in 2 partitions/);
    const p0 = openSqliteReadModel({ file, partition: { index: 0, count: 2 } });
    const p1 = openSqliteReadModel({ file, partition: { index: 1, count: 2 } });
    try {
      // Partitions start where the rebuild was.
      expect(await p0.checkpoint('demo', 'shadow')).toBe(4);
      await p0.apply([
        { projection: 'demo', target: 'shadow', checkpoint: 9, changes: [row('a', 'B2B', 5)] },
      ]);
      await p1.apply([
        { projection: 'demo', target: 'shadow', checkpoint: 7, changes: [row('b', 'B2C', 6)] },
      ]);
      expect(await p0.checkpoint('demo', 'shadow')).toBe(9);
      expect(await p1.checkpoint('demo', 'shadow')).toBe(7);
      // Each partition refuses its own positions twice, whatever the other did.
      await expect(
        p1.apply([{ projection: 'demo', target: 'shadow', checkpoint: 7, changes: [row('c', null, 1)] }]),
      ).rejects.toThrow(/twice/);
      expect(await store.checkpoint('demo', 'shadow')).toBe(4);
    } finally {
      await p0.close();
      await p1.close();
    }
    await expect(store.completeRebuild('demo')).rejects.toThrow(/endPartitions first/);
    expect(() => store.endPartitions('demo', 8)).toThrow(/at 9, after 8/);
    store.endPartitions('demo', 12);
    expect(store.partitionsOf('demo')).toBeUndefined();
    expect(await store.checkpoint('demo', 'shadow')).toBe(12);
    await store.completeRebuild('demo');
    expect(await store.checkpoint('demo')).toBe(12);
    expect((await store.find('demo_customers', [])).map((r) => r['customer_id']).sort()).toEqual([
      'a',
      'b',
      'z',
    ]);
  });

  it('a new rebuild drops the partitions of an unfinished one', async () => {
    await store.beginRebuild(spec);
    store.beginPartitions('demo', 3);
    await store.beginRebuild(spec);
    expect(store.partitionsOf('demo')).toBeUndefined();
    store.beginPartitions('demo', 2);
    expect(store.partitionsOf('demo')).toBe(2);
    expect(() => openSqliteReadModel({ file: ':memory:', partition: { index: 2, count: 2 } })).toThrow(
      RangeError,
    );
  });

  it('holds the write lock exactly around each apply transaction, and releases it when the apply fails', async () => {
    const events: string[] = [];
    const file = path.join(dir, 'locked.sqlite');
    const locked = openSqliteReadModel({
      file,
      writeLock: {
        acquire: () => events.push('acquire'),
        release: () => events.push('release'),
      },
    });
    await locked.ensureProjection(spec);
    expect(events).toEqual([]);
    await locked.apply([{ projection: 'demo', checkpoint: 3, changes: [row('a', 'B2B', 5)] }]);
    expect(events).toEqual(['acquire', 'release']);
    await expect(
      locked.apply([{ projection: 'demo', checkpoint: 3, changes: [row('b', 'B2C', 7)] }]),
    ).rejects.toThrow(/twice/);
    expect(events).toEqual(['acquire', 'release', 'acquire', 'release']);
    expect(await locked.get('demo_customers', { customer_id: 'b' })).toBeUndefined();
    await locked.close();
  });

  it('rebuilds into shadow tables: queries see the old view until the swap, then the new one', async () => {
    await store.apply([{ projection: 'demo', checkpoint: 5, changes: [row('old', 'B2B', 1)] }]);
    await store.beginRebuild(spec);
    expect(await store.rebuildInProgress('demo')).toBe(true);
    await store.apply([
      { projection: 'demo', target: 'shadow', checkpoint: 4, changes: [row('new', 'B2C', 2)] },
    ]);
    expect(await store.find('demo_customers', [], 'shadow')).toHaveLength(1);
    expect(await store.get('demo_customers', { customer_id: 'new' })).toBeUndefined();
    expect(await store.checkpoint('demo')).toBe(5);
    expect(await store.checkpoint('demo', 'shadow')).toBe(4);
    await store.completeRebuild('demo');
    expect(await store.rebuildInProgress('demo')).toBe(false);
    expect(await store.get('demo_customers', { customer_id: 'old' })).toBeUndefined();
    expect(await store.get('demo_customers', { customer_id: 'new' })).toMatchObject({ revenue: 2 });
    expect(await store.checkpoint('demo')).toBe(4);
    const idx = await store.sql(
      {
        sqlite:
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'demo_customers' AND name = ?",
        postgres: '',
      },
      ['demo_customers_segment'],
    );
    expect(idx).toHaveLength(1);
    // A second rebuild works as well (index names do not collide).
    await store.beginRebuild(spec);
    await store.abortRebuild('demo');
    expect(await store.get('demo_customers', { customer_id: 'new' })).toBeDefined();
    await expect(store.sql({ sqlite: 'DELETE FROM demo_customers', postgres: '' })).rejects.toThrow(
      /read-only/,
    );
  });
});
