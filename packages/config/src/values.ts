import { z } from 'zod';

/**
 * The value types of environment variables, each written once: an env value is a string, and every wrong one gets
 * one message, `must be <what>` (`loadConfig` adds the variable, its flag and what it got).
 */

/** A whole number from `min` to `max` (counts, ports, and durations in whole seconds, hours or days). */
export const envInt = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be ${what}`)
    .transform(Number)
    .pipe(z.int().min(min, `must be ${what}`).max(max, `must be ${what}`));

/** A number, decimals allowed, from `min` to `max` (e.g. hours between refits: 1.5). */
export const envNumber = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `must be ${what}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be ${what}`).max(max, `must be ${what}`));

/** `true` or `false` (also 1/0, yes/no, on/off). */
export const envBoolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], 'must be true or false'))
  .transform((s) => s === 'true' || s === '1' || s === 'yes' || s === 'on');

/** A size in bytes: 4194304, 512kb or 4mb, from 1kb to 256mb. */
export const envBytes = z
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
 * A comma-separated list whose items each match `item`; `none` (e.g. `off`) is the empty list, and so is an unset
 * variable when the setting's default is `none`.
 */
export const envList = (item: RegExp, what: string, none: string) =>
  z
    .string()
    .trim()
    .transform((s) => (s === none ? [] : s.split(',').map((b) => b.trim())))
    .pipe(z.array(z.string().regex(item, `must be ${what}`)));

/** A string matching `pattern`, trimmed. */
export const envText = (pattern: RegExp, message: string) => z.string().trim().regex(pattern, message);

/** Any non-empty string (a path, a name), trimmed. */
export const envName = (max = 1000) => z.string().trim().min(1).max(max);
