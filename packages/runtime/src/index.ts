export * from './component.js';
export * from './ledger.js';
export * from './shredder.js';
