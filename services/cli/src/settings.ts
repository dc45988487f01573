import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { loadServiceConfig, type ServiceEnv } from '@crm-ledger/config';

/** The flag that sets each variable: flags win over the environment. */
export const FLAG_NAMES = {
  CRM_LEDGER_DATA_DIR: '--data-dir',
  CRM_LEDGER_HOST: '--host',
  CRM_LEDGER_PORT: '--port',
  CRM_LEDGER_LOG_LEVEL: '--log-level',
  CRM_LEDGER_SQLITE_SYNCHRONOUS: '--sqlite-synchronous',
  CRM_LEDGER_BODY_LIMIT: '--body-limit',
  CRM_LEDGER_MAX_EVENTS_PER_BATCH: '--max-events-per-batch',
} as const;

/** Commander option values of the shared flags. */
export interface SharedFlags {
  dataDir?: string;
  host?: string;
  port?: string;
  logLevel?: string;
  sqliteSynchronous?: string;
  bodyLimit?: string;
  maxEventsPerBatch?: string;
}

/** Exit codes: 1 a bad record or a conflict (the data), 2 a wrong command line or configuration. */
export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
  }
}

/** Validates env + flags with the zod schema; throws a UsageError listing every wrong value. */
export function settingsFrom(flags: SharedFlags, env: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const r = loadServiceConfig(
    env,
    {
      CRM_LEDGER_DATA_DIR: flags.dataDir,
      CRM_LEDGER_HOST: flags.host,
      CRM_LEDGER_PORT: flags.port,
      CRM_LEDGER_LOG_LEVEL: flags.logLevel,
      CRM_LEDGER_SQLITE_SYNCHRONOUS: flags.sqliteSynchronous,
      CRM_LEDGER_BODY_LIMIT: flags.bodyLimit,
      CRM_LEDGER_MAX_EVENTS_PER_BATCH: flags.maxEventsPerBatch,
    },
    FLAG_NAMES,
  );
  if (E.isLeft(r)) throw new UsageError(['invalid configuration:', ...r.left.map((l) => `  ${l}`)]);
  return r.right;
}

/** Parses a command's own option with zod, naming the flag in the message. */
export function option<T>(flag: string, schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new UsageError([
    `${flag}: ${r.error.issues.map((i) => i.message).join('; ')}, got '${String(value)}'`,
  ]);
}

export const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(
      z
        .int()
        .min(1, `must be a whole number from 1 to ${max}`)
        .max(max, `must be a whole number from 1 to ${max}`),
    );
