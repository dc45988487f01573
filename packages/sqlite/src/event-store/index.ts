export { SqliteEventStore, openSqliteEventStore } from './sqlite-event-store.js';
export { MAX_PARTITIONS, customerPartition } from './partitions.js';
/** The limits of every store, kept here under their old names (they live in @crm-ledger/core). */
export { MAX_EVENTS_PER_APPEND, MAX_EVENT_BYTES } from '@crm-ledger/core';
export type { SqliteEventStoreOptions } from './sqlite-event-store.js';
export { SqliteCheckpointStore, openSqliteCheckpointStore } from '../checkpoint-store.js';
export { EVENTS_DDL, INSERT_EVENT_SQL, pragmas } from './schema.js';
export { migrateChain, readChainBackfill, CHAIN_BACKFILL_DDL } from './chain-migration.js';
export type { ChainBackfill } from './chain-migration.js';
export { SqliteDigestStore, openSqliteDigestStore, DIGESTS_DDL } from './digest-store.js';
