export * from './suite.js';
export * from './fixtures.js';
export { InMemoryEventStore } from './memory-store.js';
export * from './refusals.js';
