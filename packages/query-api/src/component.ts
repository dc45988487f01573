import path from 'node:path';
import { z } from 'zod';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from '@crm-ledger/config';
import { HealthWeights } from '@crm-ledger/projections';
import { ensureProjections } from '@crm-ledger/projector';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/readmodel-sqlite';
import type { LedgerComponent } from '@crm-ledger/runtime';
import { registerClvRoutes } from './clv-routes.js';
import { registerQueryRoutes } from './routes.js';

/** Settings of the query API, from the environment. */
export const QueryEnv = z.object({
  CRM_LEDGER_HEALTH_WEIGHTS: z
    .string()
    .transform((s, ctx): HealthWeights => {
      let value: unknown;
      try {
        value = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"adoption":25,"outcomes":20,...}' });
        return z.NEVER;
      }
      const r = HealthWeights.safeParse(value);
      if (r.success) return r.data;
      ctx.addIssue({
        code: 'custom',
        message: `must name the weights adoption, outcomes, sentiment, supportFriction, engagementRecency (0-100): ${r.error.issues
          .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
          .join('; ')}`,
      });
      return z.NEVER;
    })
    .optional()
    .describe(
      'Health score weights as JSON, e.g. {"adoption":25,"outcomes":20,"sentiment":20,"supportFriction":15,"engagementRecency":20}',
    ),
});

/** Reads the query API settings; throws one line per wrong variable. */
export function queryEnv(env: Record<string, string | undefined>): z.output<typeof QueryEnv> {
  const r = loadConfig(QueryEnv, env);
  if (E.isLeft(r)) throw new InvalidQueryConfig(r.left);
  return r.right;
}

/** Wrong query API settings: one line per wrong variable. */
export class InvalidQueryConfig extends Error {
  constructor(readonly lines: readonly string[]) {
    super(`invalid configuration:\n  ${lines.join('\n  ')}`);
    this.name = 'InvalidQueryConfig';
  }
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
      ...(ctx.vault === undefined ? {} : { vault: ctx.vault }),
      readModel,
      keys: ctx.keys,
      clock: ctx.clock,
      ...(settings.CRM_LEDGER_HEALTH_WEIGHTS === undefined
        ? {}
        : { healthWeights: settings.CRM_LEDGER_HEALTH_WEIGHTS }),
    });
    registerClvRoutes(ctx.app, { readModel, keys: ctx.keys });
    return {
      description: 'GET /v1/customers/:customerId (360, ?asOf=), /v1/customers, /v1/aggregates/*',
      stop: () => readModel.close(),
    };
  },
};
