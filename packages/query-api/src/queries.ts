// The query API's queries, one module per concern; this module gathers them.
export * from './query-context.js';
export * from './customer-360.js';
export * from './experience-queries.js';
export * from './service-queries.js';
export * from './retention.js';
export { listCustomers, type CustomerListQuery } from './account-list.js';
export * from './customer-signals.js';
