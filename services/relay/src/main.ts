#!/usr/bin/env node
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { runRelay } from '@crm-ledger/app';
import { deploymentOf, loadServiceConfig, loggerOptions } from '@crm-ledger/config';
import { helpText, parseConfig } from './config.js';

// Every file and directory this process creates is private (0600 / 0700), whatever the shell's umask.
process.umask(0o077);

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return 0;
  }
  const parsed = parseConfig(process.env);
  if (E.isLeft(parsed)) {
    console.error(
      `crm-relay: invalid configuration\n${parsed.left.map((l) => `  ${l}`).join('\n')}\n\n${helpText()}`,
    );
    return 2;
  }
  // The stores come from the root, as every process gets them (docs/configuration.md).
  const shared = loadServiceConfig(process.env);
  if (E.isLeft(shared)) {
    console.error(`crm-relay: invalid configuration\n${shared.left.map((l) => `  ${l}`).join('\n')}`);
    return 2;
  }
  const logger = pino(loggerOptions('crm-relay', parsed.right.CRM_LEDGER_LOG_LEVEL));
  return runRelay(parsed.right, deploymentOf(shared.right), logger);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
