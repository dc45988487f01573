import type { LedgerComponent } from '../component.js';
import { meteredStore, registerIngestRoutes } from '@crm-ledger/ingest-api';

/** The ingest API as a part of the ledger process: its routes on the shared HTTP server. */
export const ingestComponent: LedgerComponent = {
  name: 'ingest API',
  start: (ctx) => {
    registerIngestRoutes(ctx.app, {
      store: meteredStore(ctx.store, ctx.metrics),
      keys: ctx.keys,
      limits: {
        bodyLimit: ctx.config.CRM_LEDGER_BODY_LIMIT,
        maxEventsPerBatch: ctx.config.CRM_LEDGER_MAX_EVENTS_PER_BATCH,
        maxEventsPerCustomer: ctx.config.CRM_LEDGER_MAX_EVENTS_PER_CUSTOMER,
      },
      customerIds: ctx.config.CRM_LEDGER_CUSTOMER_ID_POLICY,
    });
    return Promise.resolve({
      description: 'POST /v1/events, /v1/customers/:customerId/events, /v1/events/batch',
      stop: () => Promise.resolve(),
    });
  },
};
