import type { Command } from 'commander';
import { settingOption, type SettingName } from '@crm-ledger/config';

/** The flags of env-backed settings, their `--help` text from the settings' declarations (docs/configuration.md). */
export const settingOptions = (c: Command, ...names: SettingName[]): Command =>
  names.reduce((cmd, name) => {
    const { flags, description } = settingOption(name);
    return cmd.option(flags, description);
  }, c);

export const dataDirOption = (c: Command): Command => settingOptions(c, 'CRM_LEDGER_DATA_DIR');

export const syncOption = (c: Command): Command => settingOptions(c, 'CRM_LEDGER_SQLITE_SYNCHRONOUS');

/** The options of a cut, the same in every command that takes one (`replay`, `export`). */
export const cutOptions = (c: Command): Command =>
  c
    .option(
      '--as-of <time|date>',
      'business time: only events that occurred at or before this instant (ISO-8601, Z or an offset) or date (its end, UTC), whenever recorded',
    )
    .option(
      '--as-known-at <position|time|date>',
      'ledger time: only events stored at or before this global position, or recorded by this instant or date',
    );

/** Commander values of {@link cutOptions}. */
export interface CutFlags {
  asOf?: string;
  asKnownAt?: string;
}
