import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { ClvRefitScheduler, type RefitTimer } from '@crm-ledger/clv-ledger';
import { loadConfig } from '@crm-ledger/config';
import { CURRENCIES } from '@crm-ledger/events';
import { openSqliteReadModel, READ_MODEL_FILE } from '@crm-ledger/readmodel-sqlite';
import type { LedgerComponent } from '@crm-ledger/runtime';
import { writeRecord } from './commands/clv.js';

/** Settings of the scheduled CLV refit, from the environment. */
export const ClvRefitEnv = z.object({
  CRM_LEDGER_CLV_REFIT_HOURS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of hours from 0 (off) to 8760')
    .transform(Number)
    .pipe(z.number().min(0).max(8760, 'must be a number of hours from 0 (off) to 8760'))
    .default(24)
    .describe('Hours between scheduled CLV refits in `crm-ledger start` (0: off)'),
  CRM_LEDGER_CLV_CURRENCY: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(CURRENCIES))
    .default('USD')
    .describe('The currency of the scheduled fit (purchases in others are left out)'),
});

/** Reads the refit settings; throws one line per wrong variable. */
export function clvRefitEnv(env: Record<string, string | undefined>): z.output<typeof ClvRefitEnv> {
  const r = loadConfig(ClvRefitEnv, env);
  if (E.isLeft(r)) throw new Error(`invalid configuration:\n  ${r.left.join('\n  ')}`);
  return r.right;
}

const realTimer: RefitTimer = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The scheduled CLV refit as a part of `crm-ledger start`: at start when no fit exists and the ledger has
 * events, then every CRM_LEDGER_CLV_REFIT_HOURS (default 24, 0 = off), on the purchases up to yesterday (UTC).
 * Writes clv_fit / clv_customers and `<data dir>/clv/latest.json` like `crm-ledger clv fit`. A fit the data
 * cannot support is a warning, never a crash.
 */
export const clvRefitComponent: LedgerComponent = {
  name: 'CLV refit',
  async start(ctx) {
    const settings = clvRefitEnv(process.env);
    const everyHours = settings.CRM_LEDGER_CLV_REFIT_HOURS;
    if (everyHours === 0)
      return {
        description: 'off (CRM_LEDGER_CLV_REFIT_HOURS=0)',
        stop: () => Promise.resolve(),
      };
    // The configured read-model store (PostgreSQL in production), so the query API reads the fit it serves.
    const readModel =
      ctx.openReadModel !== undefined
        ? await ctx.openReadModel()
        : openSqliteReadModel({ file: path.join(ctx.dataDir, READ_MODEL_FILE) });
    const log = ctx.logger.child({ component: 'clv-refit' });
    const scheduler = new ClvRefitScheduler({
      store: ctx.store,
      readModel,
      clock: ctx.clock,
      timer: realTimer,
      log: {
        info: (fields, message) => log.info(fields, message),
        warn: (fields, message) => log.warn(fields, message),
        error: (fields, message) => log.error(fields, message),
      },
      everyHours,
      fit: { currency: settings.CRM_LEDGER_CLV_CURRENCY },
      onFitted: (record) => writeRecord(ctx.dataDir, record),
    });
    // The first decision (maybe a fit) runs in the background: the server does not wait for it.
    void scheduler.start();
    return {
      description: `every ${everyHours} h in ${settings.CRM_LEDGER_CLV_CURRENCY} (clv_fit, clv_customers)`,
      stop: async () => {
        await scheduler.stop();
        await readModel.close();
      },
    };
  },
};
