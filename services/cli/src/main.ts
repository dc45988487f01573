#!/usr/bin/env node
import { CommanderError } from 'commander';
import { program } from './program.js';
import { EXIT_USAGE, UsageError } from './settings.js';

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
  } else if (err instanceof UsageError) {
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
