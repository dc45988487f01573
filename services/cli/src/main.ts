#!/usr/bin/env node
import { CommanderError } from 'commander';
import { isStartupError } from '@crm-ledger/core';
import { program } from './program.js';
import { EXIT_USAGE } from './settings.js';

// Every file and directory this process creates is private (0600 / 0700), whatever the shell's umask.
process.umask(0o077);

const cli = program();
cli.exitOverride();
for (const c of cli.commands) {
  c.exitOverride();
  for (const sub of c.commands) sub.exitOverride();
}

try {
  await cli.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (isStartupError(err)) {
    // the operator's to fix (a wrong command line or setting, a missing, open or wrong master key): the message
    // says how, no stack
    process.stderr.write(`crm-ledger: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const { address, port } = err as { address?: string; port?: number };
    process.stderr.write(
      `crm-ledger: ${address ?? ''}:${port ?? ''} is already in use: stop the process using it, or choose another port (--port or CRM_LEDGER_PORT)\n`,
    );
    process.exitCode = EXIT_USAGE;
  } else {
    process.stderr.write(`crm-ledger: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
