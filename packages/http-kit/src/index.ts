export * from './errors.js';
export * from './api-keys.js';
export * from './file-key-store.js';
export * from './auth.js';
export * from './server.js';
export * from './bootstrap.js';
