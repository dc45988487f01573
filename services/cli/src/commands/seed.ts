import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { isIdempotencyConflict } from '@crm-ledger/core';
import { envInt } from '@crm-ledger/config';
import { openStore } from '../store.js';
import { CutInstant } from '@crm-ledger/projector';
import { defaultDemoEnd, demoWindow, describeSeedFailure, trySeedStore } from '../seeding.js';
import { EXIT_DATA, option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption, syncOption } from './shared.js';

export function seedCommand(): Command {
  return dataDirOption(syncOption(new Command('seed')))
    .description(
      'Write a realistic, deterministic synthetic history (B2B/B2C customers, purchases, subscriptions, tickets, ' +
        'surveys, adoption...) through the real append path, covering the three years up to --end (default: the end of ' +
        'yesterday, UTC: the history lives in the present). The same --seed and --end write the same events: running it ' +
        'twice writes nothing new.',
    )
    .option(
      '--end <date|time>',
      'when the history ends (a date: the end of that day, UTC); default the end of yesterday',
    )
    .option('--customers <n>', 'how many customers (about 100 events each)', '1000')
    .option('--seed <n>', 'seed of the generator', '1')
    .action(async (opts: SharedFlags & { customers: string; seed: string; end?: string }) => {
      const config = settingsFrom(opts);
      const customers = option('--customers', positiveInt(1_000_000), opts.customers);
      const seed = option('--seed', envInt(0, Number.MAX_SAFE_INTEGER, 'a whole number'), opts.seed);
      const end = opts.end === undefined ? defaultDemoEnd(new Date()) : option('--end', CutInstant, opts.end);
      const { store, describe } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      try {
        const started = Date.now();
        const seeded = await trySeedStore(store, { customers, seed, end, progress: true });
        if (E.isLeft(seeded)) {
          const { outcome } = seeded.left.failure;
          const otherEnd =
            outcome.status === 'conflict' &&
            isIdempotencyConflict(outcome.error) &&
            outcome.error.reason === 'different_content';
          if (!otherEnd) throw new Error(describeSeedFailure(seeded.left));
          process.stderr.write(
            `crm-ledger: ${describeSeedFailure(seeded.left)}: this data directory holds a demo history with another end. ` +
              'Seed with the --end of the first run (it printed "history <start> to <end>"), or into an empty --data-dir.\n',
          );
          process.exitCode = EXIT_DATA;
          return;
        }
        const s = seeded.right;
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(
          `seeded ${s.customers} customers: ${s.appended} events appended, ${s.duplicate} already present, ` +
            `history ${demoWindow(end).start.slice(0, 10)} to ${end} ` +
            `(${seconds.toFixed(1)} s) into ${describe}\n`,
        );
      } finally {
        await store.close();
      }
    });
}
