import { Command } from 'commander';
import { deploymentOf } from '@crm-ledger/config';
import { rotateMasterKey } from '@crm-ledger/app';
import { settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption } from './shared.js';

export function masterKeyCommand(): Command {
  const cmd = new Command('master-key').description(
    'The master key that wraps every customer key (docs/privacy.md#the-master-key)',
  );
  dataDirOption(cmd.command('rotate'))
    .description(
      'Re-wrap every customer key with a new master key, in one transaction. Stop every other process of the ' +
        'deployment first; afterwards point CRM_LEDGER_MASTER_KEY_FILE (or CRM_LEDGER_MASTER_KEY) at the new key.',
    )
    .requiredOption('--new-key-file <file>', 'the new master key (base64 of 32 bytes, mode 0600)')
    .option('--generate', 'create the new key file (random, mode 0600) when it does not exist')
    .action(async (opts: SharedFlags & { newKeyFile: string; generate?: boolean }) => {
      const config = settingsFrom(opts);
      const r = await rotateMasterKey(
        deploymentOf(config),
        config.CRM_LEDGER_MASTER_KEY,
        opts.newKeyFile,
        opts.generate === true,
      );
      process.stdout.write(
        `re-wrapped ${r.rewrapped} customer keys with the master key in ${r.newKeyFile}${r.created ? ' (created)' : ''}\n` +
          `next: set CRM_LEDGER_MASTER_KEY_FILE=${r.newKeyFile} for every process, start them, then destroy the old key and its copies\n`,
      );
    });
  return cmd;
}
