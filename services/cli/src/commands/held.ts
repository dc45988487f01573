import { Command } from 'commander';
import { PROJECTION_NAMES } from '@crm-ledger/projections';
import { ensureProjections, heldCustomers, requestRetry, type HeldCustomer } from '@crm-ledger/projector';
import { CustomerId } from '@crm-ledger/events';
import { openReadModel } from '../store.js';
import { option, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption } from './shared.js';

const EXAMPLES = `
Examples:
  crm-ledger held                       list the customers the views hold (rows stale since an event threw)
  crm-ledger held --json                the same as JSON lines
  crm-ledger held retry                 after the fix: apply the held customers' events again
  crm-ledger held retry kim             only customer kim

A view holds a customer when applying one of its events threw (a bug, a poison event): that customer's rows
stay at their last good state, its later events wait in the log, every other customer keeps flowing, and
/ready answers "degraded". A retry is done by the projector of \`crm-ledger start\` with its next batch, or
when it starts; a customer whose event throws again stays held.

Exit codes: 0 done (held ones listed, or retries asked); 1 the views are from another version (run
\`crm-ledger start\` or \`crm-ledger replay\` first); 2 a wrong command line or configuration.`;

function line(h: HeldCustomer): string {
  return `${h.projection}\t${h.customerId}\tsince position ${h.fromPosition}\tevent ${h.eventId} (${h.eventType}) at position ${h.position}${h.retry ? '\tretry asked' : ''}\t${h.error}`;
}

async function withViews<T>(
  opts: SharedFlags,
  run: (readModel: Awaited<ReturnType<typeof openReadModel>>) => Promise<T>,
): Promise<T | undefined> {
  const config = settingsFrom(opts);
  const readModel = await openReadModel(config, config.CRM_LEDGER_DATA_DIR);
  try {
    const stale = await ensureProjections(readModel);
    if (stale.length > 0) {
      process.stderr.write(
        `crm-ledger: the views ${stale.join(', ')} were built by another version: run crm-ledger start or crm-ledger replay first\n`,
      );
      process.exitCode = 1;
      return undefined;
    }
    return await run(readModel);
  } finally {
    await readModel.close();
  }
}

export function heldCommand(): Command {
  const held = dataDirOption(new Command('held'))
    .description(
      'List the customers the views hold: applying one of their events threw, so their rows in that view are stale ' +
        'and their later events wait, while every other customer keeps flowing (docs/guarantees.md, "Failure isolation").',
    )
    .option('--json', 'one JSON object per held customer and view')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: SharedFlags & { json?: boolean }) => {
      await withViews(opts, async (readModel) => {
        const rows = await heldCustomers(readModel, PROJECTION_NAMES);
        if (opts.json === true) {
          for (const h of rows) process.stdout.write(`${JSON.stringify(h)}\n`);
          return;
        }
        if (rows.length === 0) process.stdout.write('no customer is held: every view is up to date\n');
        for (const h of rows) process.stdout.write(`${line(h)}\n`);
      });
    });
  held.addCommand(
    dataDirOption(new Command('retry'))
      .description(
        "After the fix: ask the projector to apply the held customers' events again (all, or one customer). " +
          'The projector of `crm-ledger start` does it with its next batch, or when it starts.',
      )
      .argument('[customerId]', 'only this customer')
      .addHelpText('after', EXAMPLES)
      .action(async (customerId: string | undefined, _opts: SharedFlags, command: Command) => {
        // `--data-dir` and the other shared flags may be read by `held` itself: take both levels.
        const opts = command.optsWithGlobals<SharedFlags>();
        const id = customerId === undefined ? undefined : option('customerId', CustomerId, customerId);
        await withViews(opts, async (readModel) => {
          const marked = await requestRetry(readModel, PROJECTION_NAMES, id);
          process.stdout.write(
            marked.length === 0
              ? `no held customer${id === undefined ? '' : ` ${id}`}: nothing to retry\n`
              : `retry asked for ${marked.map((h) => `${h.customerId} (${h.projection})`).join(', ')}\n`,
          );
        });
      }),
  );
  return held;
}
