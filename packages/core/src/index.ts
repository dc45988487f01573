export * from './event-store.js';
export * from './canonical-json.js';
export * from './clock.js';
export * from './checkpoint-store.js';
export * from './read-model-store.js';
export * from './chain.js';
export * from './digest-store.js';
