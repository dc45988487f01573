/**
 * Test and benchmark support (`@crm-ledger/eventstoredb/testing`): the fault-injecting gRPC server and
 * helpers. Never used by the services.
 */
export { FaultServer, type CallRecord, type FakeRecord, type Faults } from './fault-server.js';
export { appendPaths, type AppendPaths } from './append-paths.js';
export { seed } from './seed.js';
