export * from './errors.js';
export * from './api-keys.js';
export * from './auth-store.js';
export * from './auth.js';
export * from './server.js';
export * from './bootstrap.js';
export * from './metrics.js';
export * from './concurrency.js';
