import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { customerStream, CustomerId, FreeText, Id } from '@crm-ledger/events';
import { appendCustomerEvents, describeConflict, describeGone } from '@crm-ledger/ingest-api';
import { inPool } from '../append.js';
import { EXIT_DATA, option, settingsFrom, usageError, type SharedFlags } from '../settings.js';
import { openStore } from '../store.js';
import { planVoid, voidEventOf, type VoidPlan } from '../voiding.js';
import { dataDirOption } from './shared.js';

interface VoidFlags extends SharedFlags {
  import?: string;
  event?: string;
  customer?: string;
  reason?: string;
  dryRun?: boolean;
}

const EventId = z.uuid();

export function voidCommand(): Command {
  return dataDirOption(new Command('void'))
    .description(
      'Correct a mistake with compensating events: append EventVoided for every event of an import (--import) or ' +
        'for one event (--event with --customer). Every view then behaves as if the voided events had never been ' +
        'recorded (live, rebuilt and as of); the originals stay in the log and `crm-ledger verify` still passes. ' +
        "Atomic per customer: each customer's voids are one append; a re-run voids only what is left.",
    )
    .option('--import <id>', 'void every event this import wrote (the id `crm-ledger import` printed)')
    .option('--event <eventId>', 'void one event (give its customer with --customer)')
    .option('--customer <customerId>', 'the customer of --event')
    .option('--reason <text>', 'why (required; free text, stored encrypted like other personal data)')
    .option('--dry-run', 'print what would be voided, write nothing')
    .addHelpText(
      'after',
      `
Examples:
  crm-ledger void --import orders.csv-1a2b3c4d5e --reason "wrong currency mapping" --dry-run
  crm-ledger void --import orders.csv-1a2b3c4d5e --reason "wrong currency mapping"
  crm-ledger void --event 0b7e... --customer c-42 --reason "duplicate order"`,
    )
    .action(async (opts: VoidFlags) => {
      const config = settingsFrom(opts);
      if ((opts.import === undefined) === (opts.event === undefined))
        throw usageError(['give either --import <id> or --event <eventId> (with --customer <customerId>)']);
      if (opts.reason === undefined)
        throw usageError(['--reason <text> is required: say why the events are voided']);
      const reason = option('--reason', FreeText, opts.reason);
      const importId = opts.import === undefined ? undefined : option('--import', Id, opts.import);
      const { store, describe } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      try {
        let plan: VoidPlan;
        if (importId !== undefined) plan = await planVoid(store, importId);
        else {
          if (opts.customer === undefined) throw usageError(['--event needs --customer <customerId>']);
          const customerId = option('--customer', CustomerId, opts.customer);
          const eventId = option('--event', EventId, opts.event);
          const read = await store.readStream(customerStream(customerId));
          if (E.isLeft(read)) throw new Error(read.left.message);
          const target = read.right.find(
            (s) => s.event.eventId === eventId && s.event.type !== 'EventVoided',
          );
          if (target === undefined) {
            process.stderr.write(`crm-ledger: no event ${eventId} in the stream of customer ${customerId}\n`);
            process.exitCode = EXIT_DATA;
            return;
          }
          const already = read.right.some(
            (s) =>
              s.event.type === 'EventVoided' && (s.event.data as { eventId?: unknown }).eventId === eventId,
          );
          plan = {
            importId: '',
            byCustomer: new Map(already ? [] : [[customerId, [target.event]]]),
            alreadyVoided: already ? 1 : 0,
            byType: new Map(already ? [] : [[target.event.type, 1]]),
          };
        }
        const events = [...plan.byCustomer.values()].reduce((a, l) => a + l.length, 0);
        const what = importId === undefined ? `event ${opts.event}` : `import ${importId}`;
        const types = [...plan.byType.entries()].map(([t, n]) => `${t} ${n}`).join(', ');
        if (events === 0 && plan.alreadyVoided === 0) {
          process.stderr.write(`crm-ledger: ${what}: no event found in ${describe}\n`);
          process.exitCode = EXIT_DATA;
          return;
        }
        if (opts.dryRun === true) {
          process.stdout.write(
            `dry run: would void ${events} events of ${what} for ${plan.byCustomer.size} customers` +
              `${types === '' ? '' : ` (${types})`}; ${plan.alreadyVoided} already voided; nothing written\n`,
          );
          return;
        }
        const groups = [...plan.byCustomer.entries()];
        const outcomes = await inPool(groups, 8, ([customerId, targets]) =>
          appendCustomerEvents(
            store,
            customerId,
            targets.map((t) => voidEventOf(t, reason, importId)),
          ),
        );
        let failed = 0;
        let written = 0;
        for (const [i, o] of outcomes.entries()) {
          if (o.status === 'appended' || o.status === 'duplicate') {
            written += groups[i]![1].length;
            continue;
          }
          failed++;
          const customerId = groups[i]![0];
          const message =
            o.status === 'conflict'
              ? describeConflict(o.error)
              : o.status === 'gone'
                ? describeGone(o.customerId)
                : o.message;
          process.stderr.write(`crm-ledger: customer ${customerId}: nothing voided: ${message}\n`);
        }
        process.stdout.write(
          `voided ${what}: ${written} events for ${groups.length - failed} customers` +
            `${types === '' ? '' : ` (${types})`}; ${plan.alreadyVoided} were already voided` +
            `${failed === 0 ? '' : `; ${failed} customers failed (run again to retry)`}\n`,
        );
        if (failed > 0) process.exitCode = EXIT_DATA;
      } finally {
        await store.close();
      }
    });
}
