/** Test helpers of the projector's specs and its users' specs (`@crm-ledger/projector/testing`): not for production code. */
export * from './signal-history.js';
