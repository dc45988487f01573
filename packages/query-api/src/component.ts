import path from 'node:path';
import { z } from 'zod';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from '@crm-ledger/config';
import { HealthWeights } from '@crm-ledger/projections';
import { ensureProjections } from '@crm-ledger/projector';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/readmodel-sqlite';
import type { LedgerComponent } from '@crm-ledger/runtime';
import { registerQueryRoutes } from './routes.js';

/** Settings of the query API, from the environment. */
export const QueryEnv = z.object({
  CRM_LEDGER_HEALTH_WEIGHTS: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(HealthWeights)
    .optional()
    .describe(
      'Health score weights as JSON, e.g. {"adoption":25,"outcomes":20,"sentiment":20,"supportFriction":15,"engagementRecency":20}',
    ),
});

/** Reads the query API settings; throws one line per wrong variable. */
export function queryEnv(env: Record<string, string | undefined>): z.output<typeof QueryEnv> {
  const r = loadConfig(QueryEnv, env);
  if (E.isLeft(r)) throw new Error(`invalid configuration:\n  ${r.left.join('\n  ')}`);
  return r.right;
}

/** The query API as a part of `crm-ledger start`: read routes over `<data-dir>/readmodel.sqlite`. */
export const queryApiComponent: LedgerComponent = {
  name: 'query API',
  async start(ctx) {
    const settings = queryEnv(process.env);
    const readModel =
      ctx.openReadModel !== undefined
        ? await ctx.openReadModel()
        : openSqliteReadModel({ file: path.join(ctx.dataDir, READ_MODEL_FILE) });
    await ensureProjections(readModel);
    registerQueryRoutes(ctx.app, {
      store: ctx.store,
      readModel,
      keys: ctx.keys,
      clock: ctx.clock,
      ...(settings.CRM_LEDGER_HEALTH_WEIGHTS === undefined
        ? {}
        : { healthWeights: settings.CRM_LEDGER_HEALTH_WEIGHTS }),
    });
    return {
      description: 'GET /v1/customers/:customerId (360, ?asOf=), /v1/customers, /v1/aggregates/*',
      stop: () => readModel.close(),
    };
  },
};
