export * from './event-store.js';
export * from './canonical-json.js';
export * from './clock.js';
