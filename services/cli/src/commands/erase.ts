import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openAuthStore } from '@crm-ledger/app';
import { authenticate } from '@crm-ledger/http-kit';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { deploymentOf, loadConfig, settingsSchema, type AuthStoreChoice } from '@crm-ledger/config';

import { CustomerErased, CustomerId, ShortText, type RawEnvelope } from '@crm-ledger/events';
import { appendCustomerEvents, describeConflict, describeGone } from '@crm-ledger/ingest-api';
import { EXIT_DATA, option, orUsageError, settingsFrom, usageError, type SharedFlags } from '../settings.js';
import { openStore } from '../store.js';
import { dataDirOption } from './shared.js';

const Reason = CustomerErased.latest.shape.reason;

/** CRM_LEDGER_API_KEY, read through its declaration (SETTINGS of @crm-ledger/config). */
function apiKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return orUsageError(loadConfig(ApiKeyEnv, env)).CRM_LEDGER_API_KEY;
}
const ApiKeyEnv = settingsSchema(['CRM_LEDGER_API_KEY']);

/**
 * Erasure is irreversible: the command, like the API, needs a key with the `erase` (or `admin`) scope, given by
 * `--key-file` or CRM_LEDGER_API_KEY. Returns the key id (recorded in the event's `requestedBy` when none given).
 */
async function authorizeErasure(choice: AuthStoreChoice, keyFile: string | undefined): Promise<string> {
  const presented = keyFile !== undefined ? readFileSync(keyFile, 'utf8').trim() : apiKeyFromEnv(process.env);
  if (presented === undefined || presented === '')
    throw usageError([
      "erase needs an API key with the 'erase' or 'admin' scope: --key-file FILE or CRM_LEDGER_API_KEY",
    ]);
  const auth = await openAuthStore(choice);
  try {
    const r = await authenticate(auth.keys, presented, 'erase');
    if (E.isLeft(r))
      throw usageError([
        r.left.type === 'MissingScope'
          ? "the API key lacks the 'erase' scope: erasure destroys the customer's key"
          : 'the API key is unknown, revoked or expired',
      ]);
    return r.right.id;
  } finally {
    await auth.close();
  }
}

export function eraseCommand(): Command {
  return dataDirOption(new Command('erase'))
    .description(
      'Right to erasure: append CustomerErased for the customer and destroy their key (crypto-shredding). Their ' +
        'personal fields then read as null everywhere; counts, revenue and metrics stay; the log is not rewritten. ' +
        'Further events about the customer are refused (410 customer_erased). See docs/privacy.md.',
    )
    .argument('<customerId>', 'the customer to erase')
    .option('--reason <reason>', 'customer_request | retention_policy | legal_order', 'customer_request')
    .option('--requested-by <who>', 'who asked (kept in the event: no personal data here)')
    .option(
      '--key-file <file>',
      "a file holding an API key with the 'erase' or 'admin' scope (or CRM_LEDGER_API_KEY)",
    )
    .action(
      async (id: string, opts: SharedFlags & { reason: string; requestedBy?: string; keyFile?: string }) => {
        const config = settingsFrom(opts);
        const keyId = await authorizeErasure(deploymentOf(config).authStore, opts.keyFile);
        const customerId = option('<customerId>', CustomerId, id);
        const reason = option('--reason', Reason, opts.reason);
        const requestedBy =
          opts.requestedBy === undefined ? undefined : option('--requested-by', ShortText, opts.requestedBy);
        const { store, vault } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
        try {
          const event: RawEnvelope = {
            eventId: randomUUID(),
            type: 'CustomerErased',
            schemaVersion: 1,
            customerId,
            occurredAt: new Date().toISOString(),
            source: 'crm-ledger/erase', // a URI-reference (the ce_source header on Kafka): no spaces
            data: { reason, requestedBy: requestedBy ?? `api key ${keyId}` },
          };
          const outcome = await appendCustomerEvents(store, customerId, [event]);
          switch (outcome.status) {
            case 'appended':
            case 'duplicate': {
              const erased = await vault.reader(1).isErased(customerId);
              const destroyed = E.isRight(erased) && erased.right;
              process.stdout.write(
                `customer ${customerId} erased at position ${outcome.result.positions[0] ?? '?'}: ` +
                  (destroyed
                    ? 'key destroyed, personal fields now read as null\n'
                    : 'key destruction pending (the shredder of a running ledger completes it)\n'),
              );
              return;
            }
            case 'conflict':
              process.stderr.write(`crm-ledger: ${describeConflict(outcome.error)}\n`);
              break;
            case 'gone':
              process.stderr.write(`crm-ledger: ${describeGone(outcome.customerId)}\n`);
              break;
            case 'invalid':
            case 'unavailable':
              process.stderr.write(`crm-ledger: ${outcome.message}\n`);
              break;
          }
          process.exitCode = EXIT_DATA;
        } finally {
          await store.close();
        }
      },
    );
}
