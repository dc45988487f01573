export {
  openPostgresReadModelStore,
  PostgresReadModelStore,
  type PostgresReadModelOptions,
} from './postgres-read-model-store.js';
export { acquireRunnerLock, type RunnerLock } from './runner-lock.js';
export { toPostgresPlaceholders } from './placeholders.js';
