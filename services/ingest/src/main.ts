#!/usr/bin/env node
import { Command } from 'commander';
import { exitOnStartFailure, runService, serviceSettings } from '@crm-ledger/app';
import { environmentHelp } from '@crm-ledger/config';

new Command('crm-ledger-ingest')
  .description(
    'The ingest API as a standalone process. Configured by environment variables only (docs/configuration.md).',
  )
  .addHelpText('after', `\n${environmentHelp('ingest')}`)
  .action(() => runService('crm-ledger-ingest', 'ingest', serviceSettings('crm-ledger-ingest', process.env)))
  .parseAsync(process.argv)
  .catch(exitOnStartFailure('crm-ledger-ingest'));
