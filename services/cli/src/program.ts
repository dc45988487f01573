import { Command } from 'commander';
import { clvCommand } from './commands/clv.js';
import { eraseCommand } from './commands/erase.js';
import { exportCommand } from './commands/export.js';
import { heldCommand } from './commands/held.js';
import { importCommand } from './commands/import.js';
import { keysCommand } from './commands/keys.js';
import { masterKeyCommand } from './commands/master-key.js';
import { replayCommand } from './commands/replay.js';
import { seedCommand } from './commands/seed.js';
import { startCommand } from './commands/start.js';
import { verifyCommand } from './commands/verify.js';
import { voidCommand } from './commands/void.js';

export function program(): Command {
  const p = new Command('crm-ledger')
    .description(
      'crm-ledger: an event-sourced customer-relationship ledger.\n' +
        'Settings come from flags or environment variables (CRM_LEDGER_DATA_DIR, CRM_LEDGER_PORT, ...), validated at start-up.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .addCommand(startCommand())
    .addCommand(seedCommand())
    .addCommand(importCommand())
    .addCommand(keysCommand())
    .addCommand(replayCommand())
    .addCommand(clvCommand())
    .addCommand(verifyCommand())
    .addCommand(heldCommand())
    .addCommand(exportCommand())
    .addCommand(eraseCommand())
    .addCommand(masterKeyCommand())
    .addCommand(voidCommand());
  return p;
}
