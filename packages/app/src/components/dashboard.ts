import type { LedgerComponent } from '../component.js';
import { DEFAULT_DASHBOARD_PREFIX, registerDashboard } from '@crm-ledger/dashboard';

/** The dashboard as a part of `crm-ledger start`: the pages, served next to the query API they call. */
export const dashboardComponent: LedgerComponent = {
  name: 'dashboard',
  start(ctx) {
    registerDashboard(ctx.app);
    return Promise.resolve({
      description: `GET ${DEFAULT_DASHBOARD_PREFIX}/ (overview), ${DEFAULT_DASHBOARD_PREFIX}/customer.html?id=<customerId> (360)`,
      stop: () => Promise.resolve(),
    });
  },
};
