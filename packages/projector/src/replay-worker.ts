/**
 * A thread of a parallel replay (see `buildInWorkers`): opens the event store and the read model itself and
 * builds the shadow tables of its partition of the customers with `buildShadow`, the same code as a
 * single-thread replay.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { SharedMutex, threadCpuSeconds, type WorkerMessage, type WorkerTask } from './parallel-replay.js';
import { buildShadow } from './replay.js';

const task = workerData as WorkerTask;
const port = parentPort;
if (port === null) throw new Error('replay-worker runs in a worker thread');
const post = (m: WorkerMessage): void => port.postMessage(m);

// The thread only reads: the write connection stays in this thread (no writer thread of its own to start).
const store = openSqliteEventStore({ file: task.storeFile, synchronous: task.synchronous, writer: 'inline' });
const readModel = openSqliteReadModel({
  file: task.readModelFile,
  synchronous: task.synchronous,
  writeLock: new SharedMutex(task.lock),
  partition: task.partition,
});
try {
  const built = await buildShadow({
    store,
    readModel,
    projections: task.projections,
    until: task.until,
    ...(task.asOf === undefined ? {} : { asOf: task.asOf }),
    batchSize: task.batchSize,
    read: (after, until, batchSize) =>
      store.readPartition({ after, until, batchSize, partition: task.partition }),
    ...(task.cacheSize === undefined ? {} : { cacheSize: task.cacheSize }),
    ...(task.reportSkipped ? { onSkipped: (event) => post({ kind: 'skipped', event }) } : {}),
    onPage: (report, from) => post({ kind: 'page', report, from }),
  });
  post({
    kind: 'done',
    report: { events: built.events, position: built.position, skipped: built.skipped },
    from: built.from,
    cpuSeconds: threadCpuSeconds(),
  });
} finally {
  await readModel.close();
  await store.close();
}
