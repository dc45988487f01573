import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';

import { CustomerErased, CustomerId, ShortText, type RawEnvelope } from '@crm-ledger/events';
import { appendCustomerEvents, describeConflict, describeGone } from '@crm-ledger/ingest-api';
import { EXIT_DATA, option, settingsFrom, type SharedFlags } from '../settings.js';
import { openStore } from '../store.js';
import { dataDirOption } from './shared.js';

const Reason = CustomerErased.latest.shape.reason;

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
    .action(async (id: string, opts: SharedFlags & { reason: string; requestedBy?: string }) => {
      const config = settingsFrom(opts);
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
          source: 'crm-ledger erase',
          data: { reason, ...(requestedBy === undefined ? {} : { requestedBy }) },
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
    });
}
