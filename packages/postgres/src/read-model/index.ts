export {
  openPostgresReadModelStore,
  scratchSchemaOf,
  sweepScratchSchemas,
  openPostgresCheckpointStore,
  PostgresReadModelStore,
  type PostgresReadModelOptions,
  type PartitionOffset,
  type PartitionBatchWrite,
  PartitionOffsetMoved,
  isPartitionOffsetMoved,
} from './postgres-read-model-store.js';
export { ProjectionLocks, projectionLockKey } from './projection-locks.js';
export { acquireRunnerLock, type RunnerLock } from './runner-lock.js';
export { toPostgresPlaceholders } from './placeholders.js';
export { PostgresCheckpointStore } from '../checkpoint-store.js';
