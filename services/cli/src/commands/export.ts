import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { z } from 'zod';
import type { EventStore, GlobalPosition } from '@crm-ledger/core';
import { CustomerId } from '@crm-ledger/events';
import { exportEvents } from '../exporting.js';
import { option, positiveInt, settingsFrom, UsageError, type SharedFlags } from '../settings.js';
import { openStore } from '../store.js';
import { dataDirOption } from './shared.js';

/** A position (a whole number) or an instant (ISO-8601): `--after 1200` or `--after 2024-06-01T00:00:00Z`. */
const PositionOrTime = z.union(
  [
    z
      .string()
      .regex(/^\d+$/)
      .transform((s) => ({ position: Number(s) })),
    z.iso.datetime({ offset: true }).transform((time) => ({ time: new Date(time).toISOString() })),
    z.iso.date().transform((d) => ({ time: `${d}T00:00:00.000Z` })),
  ],
  { error: 'must be a log position (a whole number) or an instant (ISO-8601, e.g. 2024-06-01T00:00:00Z)' },
);

async function resolve(store: EventStore, at: z.output<typeof PositionOrTime>): Promise<GlobalPosition> {
  return 'position' in at ? at.position : store.positionAt(at.time);
}

export function exportCommand(): Command {
  return dataDirOption(new Command('export'))
    .description(
      "Write the global log (or one customer's stream) as NDJSON, one event a line: {position, stream, revision, " +
        "recordedAt, erased?, event}. Personal fields are decrypted with their customer's key; those of an erased " +
        'customer are null (and the line says "erased": true). Streams page by page: constant memory.',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--after <position|time>', 'only events after this position, or recorded after this instant')
    .option(
      '--until <position|time>',
      'only events up to this position, or recorded up to this instant (default: the head at start)',
    )
    .option('--customer <id>', "only this customer's events")
    .option('--keep-ciphertext', 'write personal fields as stored (enc:v1:...), no decryption')
    .option('--batch-size <n>', 'events read per page', '1000')
    .action(
      async (
        opts: SharedFlags & {
          out?: string;
          after?: string;
          until?: string;
          customer?: string;
          keepCiphertext?: boolean;
          batchSize: string;
        },
      ) => {
        const config = settingsFrom(opts);
        const after = opts.after === undefined ? undefined : option('--after', PositionOrTime, opts.after);
        const until = opts.until === undefined ? undefined : option('--until', PositionOrTime, opts.until);
        const customerId =
          opts.customer === undefined ? undefined : option('--customer', CustomerId, opts.customer);
        const batchSize = option('--batch-size', positiveInt(10_000), opts.batchSize);
        const { store, vault } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
        try {
          const from = after === undefined ? 0 : await resolve(store, after);
          const to = until === undefined ? undefined : await resolve(store, until);
          if (to !== undefined && to < from) {
            throw new UsageError([`--until (position ${to}) is before --after (position ${from})`]);
          }
          const out: Writable =
            opts.out === undefined ? process.stdout : createWriteStream(opts.out, { mode: 0o600 });
          const tty = process.stderr.isTTY;
          const head = to ?? (await store.headPosition());
          const result = await exportEvents(store, vault, out, {
            after: from,
            ...(to === undefined ? {} : { until: to }),
            ...(customerId === undefined ? {} : { customerId }),
            keepCiphertext: opts.keepCiphertext === true,
            batchSize,
            onProgress: (written, position) => {
              if (tty) process.stderr.write(`\rexported ${written} events (position ${position} of ${head})`);
            },
          });
          if (out !== process.stdout)
            await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
          process.stderr.write(
            `${tty ? '\n' : ''}exported ${result.written} events (positions ${from + 1}-${result.until})` +
              `${opts.out === undefined ? '' : ` to ${opts.out}`}${opts.keepCiphertext === true ? ', personal fields as stored' : ''}\n`,
          );
        } catch (err) {
          // the reader went away (`crm-ledger export | head`): not an error of the export
          if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
        } finally {
          await store.close();
        }
      },
    );
}
