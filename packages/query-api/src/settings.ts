import type { z } from 'zod';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig, settingsSchema } from '@crm-ledger/config';
import { invalidConfiguration } from '@crm-ledger/core';

/** Settings of the query API (declared in SETTINGS of @crm-ledger/config). */
export const QUERY_SETTINGS = [
  'CRM_LEDGER_SILENT_DAYS',
  'CRM_LEDGER_HEALTH_WEIGHTS',
  'CRM_LEDGER_CUT_CACHE_SIZE',
] as const;
export const QueryEnv = settingsSchema(QUERY_SETTINGS);
export type QuerySettings = z.output<typeof QueryEnv>;

/** Reads the query API settings; throws a `StartupError` ('configuration') with one line per wrong variable. */
export function queryEnv(env: Record<string, string | undefined>): z.output<typeof QueryEnv> {
  const r = loadConfig(QueryEnv, env);
  if (E.isLeft(r)) throw invalidConfiguration(r.left);
  return r.right;
}
