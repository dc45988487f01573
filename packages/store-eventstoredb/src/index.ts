export {
  openEventStoreDbStore,
  EventStoreDbEventStore,
  DEFAULT_MAX_APPEND_SIZE,
  type EventStoreDbOptions,
} from './eventstoredb-event-store.js';
export type { ResubscribePolicy, ResubscribeInfo } from './subscription.js';
export { toGlobalPosition, toEsdbPosition } from './positions.js';
