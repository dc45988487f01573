export {
  SqliteEventStore,
  openSqliteEventStore,
  MAX_EVENTS_PER_APPEND,
  MAX_EVENT_BYTES,
  MAX_PARTITIONS,
  customerPartition,
} from './sqlite-event-store.js';
export type { SqliteEventStoreOptions } from './sqlite-event-store.js';
export { SqliteCheckpointStore, openSqliteCheckpointStore } from './checkpoint-store.js';
export { EVENTS_DDL, INSERT_EVENT_SQL, pragmas } from './schema.js';
export { migrateChain, readChainBackfill, CHAIN_BACKFILL_DDL } from './chain-migration.js';
export type { ChainBackfill } from './chain-migration.js';
export { SqliteDigestStore, openSqliteDigestStore, DIGESTS_DDL } from './digest-store.js';
