/** Test fixtures of the personal-data layer, for the specs that run it over a real store (`@crm-ledger/pii/testing`). */
export * from './test-events.js';
export * from './test-support.js';
