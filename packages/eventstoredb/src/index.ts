export {
  openEventStoreDbStore,
  EventStoreDbEventStore,
  DEFAULT_MAX_APPEND_SIZE,
  type EventStoreDbOptions,
} from './eventstoredb-event-store.js';
export type {
  ResubscribePolicy,
  ResubscribeInfo,
  SubscriptionStatus,
  ForeignRecord,
} from './subscription.js';
export { checkConnectionString } from './connection.js';
export { toGlobalPosition, toEsdbPosition } from './positions.js';
