export * from './key-store.js';
export * from './master-key.js';
export * from './field-cipher.js';
export * from './sqlite-key-store.js';
export * from './postgres-key-store.js';
export * from './vault.js';
export * from './encrypting-store.js';
export * from './shredder.js';
