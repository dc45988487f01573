import { Command } from 'commander';
import { z } from 'zod';
import { systemClock } from '@crm-ledger/core';
import { generateApiKey, isActive, rotatedKey, Scope, type AuthStore } from '@crm-ledger/http-kit';
import { openAuthStore } from '@crm-ledger/app';
import { deploymentOf } from '@crm-ledger/config';
import { EXIT_DATA, option, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption } from './shared.js';

/** The deployment's API keys (CRM_LEDGER_AUTH_STORE: `<data-dir>/auth.sqlite` or a PostgreSQL schema). */
const withAuthStore = async <T>(flags: SharedFlags, use: (auth: AuthStore) => Promise<T>): Promise<T> => {
  const auth = await openAuthStore(deploymentOf(settingsFrom(flags)).authStore);
  try {
    return await use(auth);
  } finally {
    await auth.close();
  }
};

/** A duration like 90d, 12h, 30m or 0 (now). */
const Duration = z
  .string()
  .trim()
  .regex(/^(0|\d{1,6}[dhm])$/, 'must be a duration like 90d, 12h, 30m or 0')
  .transform((s) =>
    s === '0'
      ? 0
      : Number(s.slice(0, -1)) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[s.slice(-1) as 'd' | 'h' | 'm'],
  );

const plus = (now: string, ms: number): string => new Date(Date.parse(now) + ms).toISOString();

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'Manage API keys. Only SHA-256 hashes are stored (<data-dir>/auth.sqlite, or a PostgreSQL schema with ' +
      'CRM_LEDGER_AUTH_STORE=postgres: shared by every process of the deployment); a key is shown once, when created. Scopes: append (write events), read (views, no personal ' +
      'data), contact (contact details in the 360, each read logged), erase (CustomerErased), admin (everything). ' +
      'A running server sees changes at its next request. See docs/security.md.',
  );
  dataDirOption(keys.command('create'))
    .description('Create a key and print it (once)')
    .requiredOption('--name <name>', 'what the key is for, e.g. "shop backend"')
    .option('--scopes <list>', 'comma-separated: append, read, contact, erase, admin', 'append')
    .option('--expires-in <duration>', 'the key is refused after this long, e.g. 90d, 12h')
    .action(async (opts: SharedFlags & { name: string; scopes: string; expiresIn?: string }) => {
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
      const expiresIn =
        opts.expiresIn === undefined ? undefined : option('--expires-in', Duration, opts.expiresIn);
      const now = systemClock.now();
      const { key, record } = generateApiKey(name, scopes, now);
      const stored = expiresIn === undefined ? record : { ...record, expiresAt: plus(now, expiresIn) };
      await withAuthStore(opts, (auth) => auth.keys.add(stored));
      process.stderr.write(
        `created key ${record.id} (${record.scopes.join(', ')}) for "${record.name}"` +
          `${stored.expiresAt === undefined ? '' : `, expires ${stored.expiresAt}`}; it is shown only now:\n`,
      );
      process.stdout.write(key + '\n');
    });
  dataDirOption(keys.command('list'))
    .description('List keys (ids, names, scopes, expiry, last use; never the keys)')
    .option('--json', 'print JSON')
    .action(async (opts: SharedFlags & { json?: boolean }) => {
      const list = await withAuthStore(opts, (auth) => auth.keys.list());
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
      const now = systemClock.now();
      for (const k of list) {
        const state =
          k.revokedAt !== undefined
            ? `revoked ${k.revokedAt}`
            : !isActive(k, now)
              ? `expired ${k.expiresAt ?? ''}`
              : k.expiresAt === undefined
                ? 'active'
                : `active until ${k.expiresAt}`;
        process.stdout.write(
          `${k.id}  ${k.scopes.join(',').padEnd(24)} ${k.createdAt}  ${state}  last used ${k.lastUsedAt ?? 'never'}  ${k.name}\n`,
        );
      }
    });
  dataDirOption(keys.command('revoke'))
    .description('Revoke a key by its id (the 12 hex characters after crml_)')
    .argument('<id>', 'the key id')
    .action(async (id: string, opts: SharedFlags) => {
      const ok = await withAuthStore(opts, (auth) => auth.keys.revoke(id, systemClock.now()));
      if (ok) process.stdout.write(`revoked ${id}\n`);
      else {
        process.stderr.write(`no active key ${id}\n`);
        process.exitCode = EXIT_DATA;
      }
    });
  dataDirOption(keys.command('rotate'))
    .description(
      'Replace a key: print a new key (same name and scopes) and end the old one after a grace period',
    )
    .argument('<id>', 'the key id')
    .option('--grace <duration>', 'how long the old key keeps working, e.g. 24h (0: ends now)', '0')
    .action(async (id: string, opts: SharedFlags & { grace: string }) => {
      const grace = option('--grace', Duration, opts.grace);
      const now = systemClock.now();
      const result = await withAuthStore(opts, async (auth) => {
        const old = await auth.keys.findById(id);
        if (old === undefined || !isActive(old, now)) return undefined;
        const next = rotatedKey(old, now);
        const ok = await auth.keys.rotate(id, next.record, plus(now, grace));
        return ok ? next : undefined;
      });
      if (result === undefined) {
        process.stderr.write(`no active key ${id}\n`);
        process.exitCode = EXIT_DATA;
        return;
      }
      process.stderr.write(
        `rotated ${id} -> ${result.record.id} (${result.record.scopes.join(', ')}); the old key ends ${grace === 0 ? 'now' : `at ${plus(now, grace)}`}; the new key is shown only now:\n`,
      );
      process.stdout.write(result.key + '\n');
    });
  dataDirOption(keys.command('access-log'))
    .description(
      'Print the contact access log: which key read whose contact details, when (no personal data)',
    )
    .option('--customer <id>', 'only this customer')
    .option('--json', 'print JSON')
    .action(async (opts: SharedFlags & { customer?: string; json?: boolean }) => {
      const entries = await withAuthStore(opts, (auth) =>
        auth.accessLog.list(opts.customer === undefined ? {} : { customerId: opts.customer }),
      );
      if (opts.json === true) {
        process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
        return;
      }
      for (const e of entries)
        process.stdout.write(`${e.at}  key ${e.keyId}  customer ${e.customerId}  ${e.fields.join(',')}\n`);
    });
  return keys;
}
