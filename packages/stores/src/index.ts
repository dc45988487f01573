export * from './stores.js';
export * from './pii.js';
