/** Every SQLite adapter of crm-ledger: the only package that imports better-sqlite3. */
export * from './event-store/index.js';
export * from './read-model/index.js';
export * from './key-store.js';
export * from './auth-store.js';
