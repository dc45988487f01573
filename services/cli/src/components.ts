import { dashboardComponent } from '@crm-ledger/dashboard';
import { ingestComponent } from '@crm-ledger/ingest-api';
import { projectorComponent } from '@crm-ledger/projector';
import { queryApiComponent } from '@crm-ledger/query-api';
import { shredderComponent, type LedgerComponent } from '@crm-ledger/runtime';
import { clvRefitComponent } from './clv-refit.js';

/**
 * The parts `crm-ledger start` runs, in start order (stopped in reverse). Adding a part is one line:
 * a `LedgerComponent` that registers routes on `ctx.app` and/or runs a loop until `ctx.signal` aborts.
 */
export const components: readonly LedgerComponent[] = [
  // first: every past erasure has its key destroyed before anything serves
  shredderComponent,
  ingestComponent,
  projectorComponent,
  queryApiComponent,
  clvRefitComponent,
  dashboardComponent,
];
