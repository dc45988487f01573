import type { Command } from 'commander';

export const dataDirOption = (c: Command): Command =>
  c.option('--data-dir <dir>', 'data directory (env CRM_LEDGER_DATA_DIR, default ./.data)');

export const syncOption = (c: Command): Command =>
  c.option(
    '--sqlite-synchronous <mode>',
    'full | normal: fsync at every commit or at checkpoints (env CRM_LEDGER_SQLITE_SYNCHRONOUS, default full)',
  );
