export * from './key-store.js';
export * from './master-key.js';
export * from './field-cipher.js';
export * from './wrap.js';
export * from './vault.js';
export * from './encrypting-store.js';
export * from './shredder.js';
