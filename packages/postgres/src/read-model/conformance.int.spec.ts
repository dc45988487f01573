import { readModelConformance } from '@crm-ledger/readmodel-conformance';
import { dropSchema, freshSchema, openTestStore } from './test-support.js';

// The read-model port's conformance suite on a real PostgreSQL (one fresh random schema per case).
readModelConformance('PostgreSQL', async () => {
  const schema = freshSchema('rmc');
  const store = await openTestStore(schema);
  return {
    store,
    reopen: () => openTestStore(schema),
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});
