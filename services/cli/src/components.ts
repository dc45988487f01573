import { ingestComponent } from '@crm-ledger/ingest-api';
import { projectorComponent } from '@crm-ledger/projector';
import { queryApiComponent } from '@crm-ledger/query-api';
import type { LedgerComponent } from '@crm-ledger/runtime';

/**
 * The parts `crm-ledger start` runs, in start order (stopped in reverse). Adding a part is one line:
 * a `LedgerComponent` that registers routes on `ctx.app` and/or runs a loop until `ctx.signal` aborts.
 */
export const components: readonly LedgerComponent[] = [
  ingestComponent,
  projectorComponent,
  queryApiComponent,
];
