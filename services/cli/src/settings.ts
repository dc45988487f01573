import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import {
  FLAG_NAMES as SETTING_FLAGS,
  envInt,
  flagValues,
  loadServiceConfig,
  type ServiceEnv,
} from '@crm-ledger/config';
import { StartupError, invalidConfiguration } from '@crm-ledger/core';

/** The flag that sets each variable (declared in SETTINGS of @crm-ledger/config): flags win over the environment. */
export const FLAG_NAMES = SETTING_FLAGS;

/** Commander option values of the shared flags. */
export interface SharedFlags {
  dataDir?: string;
  host?: string;
  port?: string;
  logLevel?: string;
  logFormat?: string;
  sqliteSynchronous?: string;
  bodyLimit?: string;
  maxEventsPerBatch?: string;
}

/** Exit codes: 1 a bad record or a conflict (the data), 2 a wrong command line or configuration. */
export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;

/** A wrong command line: the one start-up error (`StartupError`, reason 'usage'), one line per problem. */
export const usageError = (lines: readonly string[]): StartupError => new StartupError('usage', lines);

/** Validates env + flags with the zod schema; throws a `StartupError` listing every wrong value. */
export function settingsFrom(flags: SharedFlags, env: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const r = loadServiceConfig(env, flagValues(flags), FLAG_NAMES);
  return orUsageError(r);
}

/** Parses a command's own option with zod, naming the flag in the message. */
export function option<T>(flag: string, schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw usageError([`${flag}: ${r.error.issues.map((i) => i.message).join('; ')}, got '${String(value)}'`]);
}

/** The settings read, or a `StartupError` ('configuration') listing every wrong value (exit code 2). */
export function orUsageError<T>(r: E.Either<string[], T>): T {
  if (E.isLeft(r)) throw invalidConfiguration(r.left);
  return r.right;
}

/** A whole number from 1 to `max`, for a command's own option. */
export const positiveInt = (max: number) => envInt(1, max, `a whole number from 1 to ${max}`);
