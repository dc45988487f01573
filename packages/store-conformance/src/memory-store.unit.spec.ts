import { describeEventStoreConformance } from './suite.js';
import { InMemoryEventStore } from './memory-store.js';

// The reference implementation passes the suite: proof that the suite's expectations are consistent.
describeEventStoreConformance('in memory (reference)', ({ clock }) => {
  const store = new InMemoryEventStore(clock);
  return Promise.resolve({ store, cleanup: () => store.close() });
});
