export * from './component.js';
export * from './ledger.js';
