import * as E from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { recordFrom } from '@crm-ledger/events';
import {
  SECRET_VARIABLES,
  SETTINGS,
  programSchema,
  settingsSchema,
  type Program,
  type Setting,
  type SettingName,
  type UsedBy,
} from './settings.js';

/** The settings every HTTP process of crm-ledger shares (declared in `SETTINGS`). */
export const LEDGER_SETTINGS = [
  'CRM_LEDGER_DATA_DIR',
  'CRM_LEDGER_HOST',
  'CRM_LEDGER_PORT',
  'CRM_LEDGER_LOG_LEVEL',
  'CRM_LEDGER_LOG_FORMAT',
  'CRM_LEDGER_SQLITE_SYNCHRONOUS',
  'CRM_LEDGER_BODY_LIMIT',
  'CRM_LEDGER_MAX_EVENTS_PER_BATCH',
  'CRM_LEDGER_RATE_LIMIT_MAX',
  'CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS',
  'CRM_LEDGER_CUSTOMER_ID_POLICY',
  'CRM_LEDGER_REQUEST_TIMEOUT_SECONDS',
  'CRM_LEDGER_HEADERS_TIMEOUT_SECONDS',
  'CRM_LEDGER_KEEP_ALIVE_TIMEOUT_SECONDS',
  'CRM_LEDGER_MAX_CONCURRENT_PER_KEY',
  'CRM_LEDGER_MAX_CONCURRENT_QUERIES',
  'CRM_LEDGER_MAX_EVENTS_PER_CUSTOMER',
] as const satisfies readonly SettingName[];

/**
 * The shared settings of a crm-ledger HTTP process, by environment variable. Flags map onto the same names
 * (`--port` is CRM_LEDGER_PORT), so one schema validates both.
 */
export const LedgerEnv = settingsSchema(LEDGER_SETTINGS);
export type LedgerEnv = z.output<typeof LedgerEnv>;

/** Maps an env variable to the flag that sets it, for messages ("CRM_LEDGER_PORT (--port)"). */
export type FlagNames = Partial<Record<string, string>>;

/**
 * Reads the settings from the environment and flag values (flags win), validated by `schema`.
 * Empty strings count as unset. Left: one line per wrong value, naming the variable (and flag), what
 * it must be and what it got, e.g. `CRM_LEDGER_PORT (--port): must be a port number from 0 to 65535, got 'abc'`.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
  flags: Record<string, string | number | undefined> = Object.create(null) as Record<string, never>,
  flagNames: FlagNames = Object.create(null) as FlagNames,
): E.Either<string[], z.output<S>> {
  const input = inputOf(Object.keys(schema.shape), env, flags);
  const parsed = schema.safeParse(recordFrom(input));
  if (parsed.success) return E.right(parsed.data);
  return E.left(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = flagNames[key];
      const name = flag === undefined ? key : `${key} (${flag})`;
      const got = input.get(key);
      const message =
        issue.code === 'invalid_value' && 'values' in issue
          ? `must be one of ${issue.values.map(String).join(', ')}`
          : issue.message;
      const shown = !SECRET_VARIABLES.includes(key)
        ? `, got '${got}'`
        : ', got a value (not shown: it may hold a password)';
      return `${name}: ${message}${got === undefined ? '' : shown}`;
    }),
  );
}

/** The value of each key: the flag's, else the environment's; empty strings left out (unset). */
function inputOf(
  keys: readonly string[],
  env: Record<string, string | undefined>,
  flags: Record<string, string | number | undefined>,
): Map<string, string> {
  const input = new Map<string, string>();
  for (const key of keys) {
    const flag = Object.hasOwn(flags, key) ? flags[key] : undefined;
    const value = flag !== undefined ? String(flag) : Object.hasOwn(env, key) ? env[key] : undefined;
    if (value !== undefined && value !== '') input.set(key, value);
  }
  return input;
}

/**
 * Reads the settings a program uses (`usedBy` in `SETTINGS`) from the environment, plus the rule of `requiredBy`:
 * a setting the program cannot run without is wrong when unset or left at its default (`off` brokers).
 */
export function loadProgramConfig<P extends Program>(
  program: P,
  env: Record<string, string | undefined>,
): E.Either<string[], z.output<ReturnType<typeof programSchema<P>>>> {
  const schema = programSchema(program);
  const loaded = loadConfig(schema, env);
  const keys = Object.keys(schema.shape) as UsedBy<P>[];
  const input = inputOf(keys, env, Object.create(null) as Record<string, never>);
  const missing = keys.flatMap((key) => {
    const s: Setting = SETTINGS[key];
    const value = input.get(key)?.trim();
    return s.requiredBy?.includes(program) === true && (value === undefined || value === s.default)
      ? [`${key}: is required: ${s.description}`]
      : [];
  });
  if (missing.length === 0) return loaded;
  return E.left([...missing, ...(E.isLeft(loaded) ? loaded.left : [])]);
}
