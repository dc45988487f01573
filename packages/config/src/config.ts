import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';

const int = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be ${what}`)
    .transform(Number)
    .pipe(z.int().min(min, `must be ${what}`).max(max, `must be ${what}`));

const bytes = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*(b|kb|kib|mb|mib)?$/i, 'must be a size like 4194304, 512kb or 4mb')
  .transform((s) => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s)!;
    const unit = (m[2] ?? '').toLowerCase();
    const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
    return Math.floor(Number(m[1]) * factor);
  })
  .pipe(
    z
      .int()
      .min(1024, 'must be at least 1kb')
      .max(256 * 1024 * 1024, 'must be at most 256mb'),
  );

/**
 * Every setting of a crm-ledger process, by environment variable. Flags map onto the same names
 * (`--port` is CRM_LEDGER_PORT), so one schema validates both. Other parts of the ledger extend this
 * object (event store choice, read-model store, Kafka...) with `LedgerEnv.extend({...})`.
 */
export const LedgerEnv = z.object({
  CRM_LEDGER_DATA_DIR: z.string().trim().min(1, 'must be a directory path').default('./.data'),
  CRM_LEDGER_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
  CRM_LEDGER_PORT: int(0, 65535, 'a port number from 0 to 65535').default(4100),
  CRM_LEDGER_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  /** fsync policy of the embedded SQLite store (see docs/event-store.md). */
  CRM_LEDGER_SQLITE_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  CRM_LEDGER_BODY_LIMIT: bytes.default(4 * 1024 * 1024),
  CRM_LEDGER_MAX_EVENTS_PER_BATCH: int(1, 10_000, 'a whole number from 1 to 10000').default(1000),
  /** Requests one API key may make per window (429 above); 0 turns rate limiting off. */
  CRM_LEDGER_RATE_LIMIT_MAX: int(0, 1_000_000, 'a whole number from 0 (off) to 1000000').default(6000),
  /** Length of the rate-limit window in seconds. */
  CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400, 'a number of seconds from 1 to 86400').default(60),
});
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
  flags: Record<string, string | number | undefined> = {},
  flagNames: FlagNames = {},
): E.Either<string[], z.output<S>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const flag = flags[key];
    const value = flag !== undefined ? String(flag) : env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return E.right(parsed.data);
  return E.left(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = flagNames[key];
      const name = flag === undefined ? key : `${key} (${flag})`;
      const got = input[key];
      const message =
        issue.code === 'invalid_value' && 'values' in issue
          ? `must be one of ${issue.values.map(String).join(', ')}`
          : issue.message;
      return `${name}: ${message}${got === undefined ? '' : `, got '${got}'`}`;
    }),
  );
}
