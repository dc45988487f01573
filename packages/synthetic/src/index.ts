export * from './generate.js';
export * from './summary.js';
export { Rng, uuidFor } from './rng.js';
export * from './disorder.js';
