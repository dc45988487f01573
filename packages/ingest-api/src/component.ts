import type { LedgerComponent } from '@crm-ledger/runtime';
import { registerIngestRoutes } from './routes.js';

/** The ingest API as a part of the ledger process: its routes on the shared HTTP server. */
export const ingestComponent: LedgerComponent = {
  name: 'ingest API',
  start: (ctx) => {
    registerIngestRoutes(ctx.app, {
      store: ctx.store,
      keys: ctx.keys,
      limits: {
        bodyLimit: ctx.config.CRM_LEDGER_BODY_LIMIT,
        maxEventsPerBatch: ctx.config.CRM_LEDGER_MAX_EVENTS_PER_BATCH,
      },
    });
    return Promise.resolve({
      description: 'POST /v1/events, /v1/customers/:customerId/events, /v1/events/batch',
      stop: () => Promise.resolve(),
    });
  },
};
