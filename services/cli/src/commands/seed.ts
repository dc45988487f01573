import { Command } from 'commander';
import { z } from 'zod';
import { openStore } from '../store.js';
import { seedStore } from '../seeding.js';
import { option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption, syncOption } from './shared.js';

export function seedCommand(): Command {
  return dataDirOption(syncOption(new Command('seed')))
    .description(
      'Write a realistic, deterministic synthetic history (B2B/B2C customers, purchases, subscriptions, tickets, ' +
        'surveys, adoption...) through the real append path. The same --seed writes the same events: running it twice writes nothing new.',
    )
    .option('--customers <n>', 'how many customers (about 100 events each)', '1000')
    .option('--seed <n>', 'seed of the generator', '1')
    .action(async (opts: SharedFlags & { customers: string; seed: string }) => {
      const config = settingsFrom(opts);
      const customers = option('--customers', positiveInt(1_000_000), opts.customers);
      const seed = option(
        '--seed',
        z.string().regex(/^\d+$/, 'must be a whole number').transform(Number),
        opts.seed,
      );
      const { store, describe } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      try {
        const started = Date.now();
        const s = await seedStore(store, { customers, seed, progress: true });
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(
          `seeded ${s.customers} customers: ${s.appended} events appended, ${s.duplicate} already present ` +
            `(${seconds.toFixed(1)} s) into ${describe}\n`,
        );
      } finally {
        await store.close();
      }
    });
}
