#!/usr/bin/env node
import { Command } from 'commander';
import { exitOnStartFailure, runService, serviceSettings } from '@crm-ledger/app';
import { environmentHelp } from '@crm-ledger/config';

new Command('crm-ledger-projector')
  .description(
    'The read side as a standalone process: the projector keeps the read models up to date from the event store ' +
      '(written by crm-ledger start or crm-ledger-ingest), and the query API serves them; it also records the ' +
      'digests of the log (the notary) and refits CLV on schedule. Configured by environment variables only ' +
      '(docs/configuration.md).',
  )
  .addHelpText('after', `\n${environmentHelp('projector')}`)
  .action(() =>
    runService('crm-ledger-projector', 'projector', serviceSettings('crm-ledger-projector', process.env)),
  )
  .parseAsync(process.argv)
  .catch(exitOnStartFailure('crm-ledger-projector'));
