#!/usr/bin/env node
import { Command } from 'commander';
import { exitOnStartFailure, runService, serviceSettings } from '@crm-ledger/app';
import { environmentHelp } from '@crm-ledger/config';

new Command('crm-ledger-query')
  .description(
    'The query API alone: serves the views from the read models a projector keeps up to date (crm-ledger-projector ' +
      'or crm-ledger start). Stateless: run as many as needed. Configured by environment variables only ' +
      '(docs/configuration.md).',
  )
  .addHelpText('after', `\n${environmentHelp('query')}`)
  .action(() => runService('crm-ledger-query', 'query', serviceSettings('crm-ledger-query', process.env)))
  .parseAsync(process.argv)
  .catch(exitOnStartFailure('crm-ledger-query'));
