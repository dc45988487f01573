/** Every PostgreSQL adapter of crm-ledger: the only package that imports pg. */
export * from './read-model/index.js';
export * from './key-store.js';
export * from './auth-store.js';
