import { recordFrom } from '@crm-ledger/events';
import {
  PROGRAMS,
  settingOf,
  SETTING_NAMES,
  settingsUsedBy,
  shownDefault,
  type Program,
  type SettingName,
} from './settings.js';
import type { FlagNames } from './config.js';

/** A commander option built from a setting's declaration: `c.option(o.flags, o.description)`. */
export interface SettingOption {
  readonly flags: string;
  readonly description: string;
}

/** The `--help` option of a setting that has a flag: its description, variable and default. */
export function settingOption(name: SettingName): SettingOption {
  const s = settingOf(name);
  if (s.flag === undefined) throw new Error(`${name} has no flag`);
  const def = shownDefault(name);
  return {
    flags: s.flag,
    description: `${s.description} (env ${name}${def === undefined ? '' : `, default ${def}`})`,
  };
}

/** The flag name of each setting that has one (`CRM_LEDGER_PORT` -> `--port`), for messages. */
export const FLAG_NAMES: FlagNames = recordFrom(
  SETTING_NAMES.flatMap((n) => {
    const flag = settingOf(n).flag;
    return flag === undefined ? [] : [[n, flag.split(' ')[0]!]];
  }),
);

/**
 * The settings given as flags, from commander's option values (`--data-dir` is `opts.dataDir`), by variable: the
 * `flags` argument of `loadConfig`.
 */
export function flagValues(opts: object): Record<string, string | undefined> {
  const values = new Map<string, string | number | boolean | undefined>(Object.entries(opts));
  return recordFrom(
    Object.entries(FLAG_NAMES).map(([name, flag]) => {
      const key = flag!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const value = values.get(key);
      return [name, value === undefined ? undefined : String(value)];
    }),
  );
}

/**
 * The `Configuration (environment):` section of a program's `--help`: every setting it reads, with its one-line
 * description and default (or `required`).
 */
export function environmentHelp(
  program: Program,
  names: readonly SettingName[] = settingsUsedBy(program),
): string {
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Configuration (environment, see docs/configuration.md):',
    ...names.map((n) => {
      const s = settingOf(n);
      const def = shownDefault(n);
      const tail =
        s.requiredBy?.includes(program) === true
          ? ' (required)'
          : def === undefined
            ? ''
            : ` (default ${def})`;
      return `  ${n.padEnd(width)}  ${s.description}${tail}`;
    }),
  ].join('\n');
}

/** The program names of `usedBy`, for docs. */
export function programNames(programs: readonly Program[]): string[] {
  return programs.map((p) => PROGRAMS[p]);
}
