import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '@crm-ledger/core';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { SharedMutex } from './parallel-replay.js';
import { buildShadow, replay, type ReplayProgress } from './replay.js';
import { appendInterleaved, dumpViews } from './test-history.js';

// The worker threads run the package's build (dist/replay-worker.js): `pnpm build` first, as `pnpm test` does.
describe('parallel replay (customers split between worker threads)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'projector-parallel-'));
  const eventsFile = path.join(dir, 'events.sqlite');
  let store: ReturnType<typeof openSqliteEventStore>;
  let total: number;
  let head: number;
  let single: Record<string, readonly Row[]>;

  beforeAll(async () => {
    store = openSqliteEventStore({ file: eventsFile, synchronous: 'normal' });
    total = await appendInterleaved(store, generateHistory({ seed: 42, customers: 60, targetEvents: 6_000 }));
    head = await store.headPosition();
    const rm = openSqliteReadModel({ file: path.join(dir, 'single.sqlite') });
    await replay({ store, readModel: rm, batchSize: 500 });
    single = await dumpViews(rm);
    await rm.close();
  });
  /** A read model on `file` with a rebuild of every view begun, split into `partitions` when given. */
  async function rebuildBegun(file: string, partitions?: number) {
    const rm = openSqliteReadModel({ file });
    for (const name of PROJECTION_NAMES) {
      await rm.ensureProjection(projections[name].spec);
      await rm.beginRebuild(projections[name].spec);
      if (partitions !== undefined) rm.beginPartitions(name, partitions);
    }
    return rm;
  }

  /** Builds partition `index` of `count` alone up to `until`, as one thread of a replay that then died. */
  async function buildPartition(
    file: string,
    index: number,
    count: number,
    until: number,
    batchSize: number,
  ) {
    const rm = openSqliteReadModel({ file, partition: { index, count } });
    try {
      return await buildShadow({
        store,
        readModel: rm,
        projections: PROJECTION_NAMES,
        until,
        batchSize,
        read: (after, until, batchSize) =>
          store.readPartition({ after, until, batchSize, partition: { index, count } }),
      });
    } finally {
      await rm.close();
    }
  }

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SharedMutex: threads incrementing a shared counter (read, then write) under it lose no update', async () => {
    const mutex = new SharedMutex();
    const counter = new SharedArrayBuffer(4);
    const dist = pathToFileURL(path.join(import.meta.dirname, '..', 'dist', 'parallel-replay.js')).href;
    const code = `
      import { workerData } from 'node:worker_threads';
      const { SharedMutex } = await import(${JSON.stringify(dist)});
      const m = new SharedMutex(workerData.lock);
      const c = new Int32Array(workerData.counter);
      for (let i = 0; i < 20000; i++) {
        m.acquire();
        const v = Atomics.load(c, 0);
        for (let k = 0; k < 20; k++) Math.sqrt(k); // widen the window between read and write
        Atomics.store(c, 0, v + 1);
        m.release();
      }`;
    const run = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
          workerData: { lock: mutex.buffer, counter },
        });
        w.on('error', reject);
        w.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`exit ${c}`))));
      });
    await Promise.all([run(), run(), run()]);
    expect(new Int32Array(counter)[0]).toBe(60000);
  });

  it('gives exactly the rows (state rows included) and checkpoints of the single-thread replay', async () => {
    const file = path.join(dir, 'parallel.sqlite');
    const rm = openSqliteReadModel({ file });
    const progress: ReplayProgress[] = [];
    const result = await replay({
      store,
      readModel: rm,
      batchSize: 500,
      parallel: { storeFile: eventsFile, readModelFile: file, threads: 2 },
      onProgress: (p) => progress.push(p),
    });
    expect(result.events).toBe(total);
    expect(result.position).toBe(head);
    // Each worker tells how much CPU it ran (Linux): the critical path of the bench.
    if (process.platform === 'linux') {
      expect(result.threadCpuSeconds).toHaveLength(2);
      for (const c of result.threadCpuSeconds ?? []) expect(c).toBeGreaterThan(0);
    }
    expect(await dumpViews(rm)).toEqual(single);
    for (const name of PROJECTION_NAMES) {
      expect(await rm.checkpoint(name)).toBe(head);
      expect(await rm.rebuildInProgress(name)).toBe(false);
    }
    // Progress follows the slowest thread: positions never go back, and it ends at the head.
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.position).toBeGreaterThanOrEqual(progress[i - 1]!.position);
    expect(progress[progress.length - 1]!.position).toBe(head);
    await rm.close();
  });

  it('--until: the views as of a past position, the same as single-thread', async () => {
    const until = Math.floor(head / 3);
    const a = openSqliteReadModel({ file: path.join(dir, 'until-single.sqlite') });
    expect((await replay({ store, readModel: a, until })).threadCpuSeconds).toBeUndefined();
    const file = path.join(dir, 'until-parallel.sqlite');
    const b = openSqliteReadModel({ file });
    const r = await replay({
      store,
      readModel: b,
      until,
      parallel: { storeFile: eventsFile, readModelFile: file, threads: 4 },
    });
    expect(r.position).toBe(until);
    expect(await dumpViews(b)).toEqual(await dumpViews(a));
    expect(await b.checkpoint('experience')).toBe(until);
    await a.close();
    await b.close();
  });

  it('resumes an unfinished rebuild whose views stopped at different positions', async () => {
    const file = path.join(dir, 'resume.sqlite');
    const rm = await rebuildBegun(file);
    // As if a thread had died: service and value got to a third of the log, the others did not start.
    const third = Math.floor(head / 3);
    await buildShadow({
      store,
      readModel: rm,
      projections: ['service', 'value'],
      until: third,
      batchSize: 400,
    });
    expect(await rm.checkpoint('service', 'shadow')).toBe(third);
    expect(await rm.checkpoint('experience', 'shadow')).toBe(0);
    const r = await replay({
      store,
      readModel: rm,
      parallel: { storeFile: eventsFile, readModelFile: file, threads: 2 },
    });
    expect(r.events).toBe(total);
    expect(await dumpViews(rm)).toEqual(single);
    await rm.close();
  });

  it('resumes a rebuild the threads left at different positions, each partition from its own checkpoint', async () => {
    const file = path.join(dir, 'resume-partitions.sqlite');
    const rm = await rebuildBegun(file, 3);
    // As if the process had died: partition 1 got to a third of the log, partitions 0 and 2 did not start.
    const third = Math.floor(head / 3);
    const built = await buildPartition(file, 1, 3, third, 100);
    expect(built.events).toBeGreaterThan(0);
    expect(built.events).toBeLessThan(third);
    expect(await rm.checkpoint('service', 'shadow')).toBe(0);
    expect(rm.partitionsOf('service')).toBe(3);
    const r = await replay({
      store,
      readModel: rm,
      parallel: { storeFile: eventsFile, readModelFile: file, threads: 3 },
    });
    // Partition 1 read only what it had not applied yet.
    expect(r.events).toBe(total - built.events);
    expect(await dumpViews(rm)).toEqual(single);
    expect(rm.partitionsOf('service')).toBeUndefined();
    await rm.close();
  });

  it('starts again a rebuild that threads left unfinished when it is resumed with another thread count', async () => {
    for (const threads of [1, 2]) {
      const file = path.join(dir, `restart-${threads}.sqlite`);
      const rm = await rebuildBegun(file, 3);
      await buildPartition(file, 0, 3, head, 300);
      // Partition 0's rows are in the shadow tables; a resume that ignored its checkpoint would apply them twice.
      const r = await replay({
        store,
        readModel: rm,
        ...(threads > 1 ? { parallel: { storeFile: eventsFile, readModelFile: file, threads } } : {}),
      });
      expect(r.events).toBe(total);
      expect(await dumpViews(rm)).toEqual(single);
      await rm.close();
    }
  });

  it('a thread that fails rejects the replay and leaves the rebuild resumable', async () => {
    const file = path.join(dir, 'fail.sqlite');
    const rm = openSqliteReadModel({ file });
    await expect(
      replay({
        store,
        readModel: rm,
        parallel: {
          storeFile: path.join(dir, 'no-such-dir', 'events.sqlite'),
          readModelFile: file,
          threads: 2,
        },
      }),
    ).rejects.toThrow();
    expect(await rm.rebuildInProgress('service')).toBe(true);
    await replay({ store, readModel: rm });
    expect(await dumpViews(rm)).toEqual(single);
    await rm.close();
  });
});
