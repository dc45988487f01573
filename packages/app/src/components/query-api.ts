import path from 'node:path';
import { ensureProjections } from '@crm-ledger/projector';
import { registerClvRoutes, registerQueryRoutes, type QuerySettings } from '@crm-ledger/query-api';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/sqlite';
import type { LedgerComponent } from '../component.js';

/**
 * The query API as a part of a process: read routes over the read models, with the settings its entry point read
 * (`queryEnv(process.env)`).
 */
export const queryApiComponent = (settings: QuerySettings): LedgerComponent => ({
  name: 'query API',
  async start(ctx) {
    const readModel =
      ctx.openReadModel !== undefined
        ? await ctx.openReadModel()
        : openSqliteReadModel({ file: path.join(ctx.dataDir, READ_MODEL_FILE) });
    await ensureProjections(readModel);
    // views of a past cut that a killed query process left in PostgreSQL: dropped once their owner is gone
    const swept = (await ctx.sweepScratchReadModels?.()) ?? [];
    if (swept.length > 0)
      ctx.logger.info(
        { schemas: swept },
        `dropped ${swept.length} scratch schema(s) of past cuts left by processes that are gone`,
      );
    const open = ctx.openReadModel;
    registerQueryRoutes(ctx.app, {
      // lists and aggregates at a past cut: the views built into a scratch read model of the same kind
      openScratchReadModel:
        open === undefined
          ? () => Promise.resolve(openSqliteReadModel({ file: ':memory:' }))
          : () => open({ scratch: true }),
      store: ctx.store,
      ...(ctx.vault === undefined ? {} : { vault: ctx.vault }),
      readModel,
      keys: ctx.keys,
      ...(ctx.accessLog === undefined ? {} : { accessLog: ctx.accessLog }),
      clock: ctx.clock,
      concurrency: {
        perKey: ctx.config.CRM_LEDGER_MAX_CONCURRENT_PER_KEY,
        total: ctx.config.CRM_LEDGER_MAX_CONCURRENT_QUERIES,
      },
      silentAfterDays: settings.CRM_LEDGER_SILENT_DAYS,
      cutCacheSize: settings.CRM_LEDGER_CUT_CACHE_SIZE,
      ...(settings.CRM_LEDGER_HEALTH_WEIGHTS === undefined
        ? {}
        : { healthWeights: settings.CRM_LEDGER_HEALTH_WEIGHTS }),
    });
    registerClvRoutes(ctx.app, { readModel, keys: ctx.keys, refitStatus: ctx.status });
    return {
      description: 'GET /v1/customers/:customerId (360, ?asOf=), /v1/customers, /v1/aggregates/*',
      stop: () => readModel.close(),
    };
  },
});
