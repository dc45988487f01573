import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { systemClock } from '@crm-ledger/core';
import { fileApiKeyStore, generateApiKey, keyFiles, Scope } from '@crm-ledger/http-kit';
import { EXIT_DATA, option, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption } from './shared.js';

const keyStoreOf = (flags: SharedFlags) => {
  const config = settingsFrom(flags);
  return fileApiKeyStore(keyFiles(path.resolve(config.CRM_LEDGER_DATA_DIR)).store);
};

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'Manage API keys. Only SHA-256 hashes are stored (<data-dir>/api-keys.json); a key is shown once, when created. ' +
      'Scopes: append (write events), read (query), admin (everything). A running server sees changes at once.',
  );
  dataDirOption(keys.command('create'))
    .description('Create a key and print it (once)')
    .requiredOption('--name <name>', 'what the key is for, e.g. "shop backend"')
    .option('--scopes <list>', 'comma-separated: append, read, admin', 'append')
    .action(async (opts: SharedFlags & { name: string; scopes: string }) => {
      const store = keyStoreOf(opts);
      const name = option(
        '--name',
        z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
        opts.name,
      );
      const scopes = option(
        '--scopes',
        z.array(Scope).min(1),
        opts.scopes
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      );
      const { key, record } = generateApiKey(name, scopes, systemClock.now());
      await store.add(record);
      process.stderr.write(
        `created key ${record.id} (${record.scopes.join(', ')}) for "${record.name}"; it is shown only now:\n`,
      );
      process.stdout.write(key + '\n');
    });
  dataDirOption(keys.command('list'))
    .description('List keys (ids, names, scopes; never the keys)')
    .option('--json', 'print JSON')
    .action(async (opts: SharedFlags & { json?: boolean }) => {
      const list = await keyStoreOf(opts).list();
      if (opts.json === true) {
        process.stdout.write(
          JSON.stringify(
            list.map(({ hash: _hash, ...rest }) => rest),
            null,
            2,
          ) + '\n',
        );
        return;
      }
      if (list.length === 0)
        process.stdout.write('no keys (crm-ledger start creates an admin key on first start)\n');
      for (const k of list) {
        process.stdout.write(
          `${k.id}  ${k.scopes.join(',').padEnd(18)} ${k.createdAt}  ${k.revokedAt === undefined ? 'active ' : `revoked ${k.revokedAt}`}  ${k.name}\n`,
        );
      }
    });
  dataDirOption(keys.command('revoke'))
    .description('Revoke a key by its id (the 12 hex characters after crml_)')
    .argument('<id>', 'the key id')
    .action(async (id: string, opts: SharedFlags) => {
      const ok = await keyStoreOf(opts).revoke(id, systemClock.now());
      if (ok) process.stdout.write(`revoked ${id}\n`);
      else {
        process.stderr.write(`no active key ${id}\n`);
        process.exitCode = EXIT_DATA;
      }
    });
  return keys;
}
