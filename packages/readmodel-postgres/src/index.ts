export {
  openPostgresReadModelStore,
  openPostgresCheckpointStore,
  PostgresReadModelStore,
  CheckpointMoved,
  type PostgresReadModelOptions,
} from './postgres-read-model-store.js';
export { ProjectionLocks, projectionLockKey } from './projection-locks.js';
export { acquireRunnerLock, type RunnerLock } from './runner-lock.js';
export { toPostgresPlaceholders } from './placeholders.js';
export { PostgresCheckpointStore } from './checkpoint-store.js';
