import { createWriteStream, fchmodSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { z } from 'zod';
import type { EventStore, GlobalPosition } from '@crm-ledger/core';
import { describeCut, KnownAt, resolveCut } from '@crm-ledger/projector';
import { CustomerId } from '@crm-ledger/events';
import { cutRequestOf, untilPosition } from '../cut-flags.js';
import { exportEvents, whyNothingMatched } from '../exporting.js';
import { EXIT_DATA, option, positiveInt, settingsFrom, usageError, type SharedFlags } from '../settings.js';
import { openStore } from '../store.js';
import { cutOptions, dataDirOption, type CutFlags } from './shared.js';

/** `--after`: a position (exclusive), or an instant / date of ledger time (the events recorded after it). */
async function afterPosition(store: EventStore, value: string): Promise<GlobalPosition> {
  const k = option('--after', KnownAt, value);
  return 'position' in k ? k.position : store.positionAt(k.recordedBy);
}

/**
 * The export file, always mode 0600 (it holds personal data): created so, and made so when it existed with another
 * mode, before a byte is written (`mode` of open applies only to a file it creates).
 */
function privateFileStream(file: string): Writable {
  const fd = openSync(file, 'w', 0o600);
  fchmodSync(fd, 0o600);
  return createWriteStream('', { fd });
}

export function exportCommand(): Command {
  return cutOptions(dataDirOption(new Command('export')))
    .description(
      "Write the global log (or one customer's stream) as NDJSON, one event a line: {position, stream, revision, " +
        'recordedAt, erased?, event}; or as CSV (--format csv), one row an event. Nothing selected: exit code 1. ' +
        "Personal fields are decrypted with their customer's key; those of an erased " +
        'customer are null (and the line says "erased": true). Streams page by page: constant memory. A cut (--as-of: ' +
        'business time, --as-known-at: ledger time) keeps the events `crm-ledger replay` with the same cut applies.',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .option(
      '--format <format>',
      'ndjson | csv (a row an event: envelope, amount, currency, data as JSON)',
      'ndjson',
    )
    .option(
      '--after <position|time|date>',
      'only events after this position, or recorded after this instant or date (ledger time)',
    )
    .option(
      '--until <position>',
      'the old name of --as-known-at <position> (a time is refused: say --as-of or --as-known-at)',
    )
    .option('--customer <id>', "only this customer's events")
    .option('--keep-ciphertext', 'write personal fields as stored (enc:v1:...), no decryption')
    .option('--batch-size <n>', 'events read per page', '1000')
    .action(
      async (
        opts: SharedFlags &
          CutFlags & {
            out?: string;
            format: string;
            after?: string;
            until?: string;
            customer?: string;
            keepCiphertext?: boolean;
            batchSize: string;
          },
      ) => {
        const config = settingsFrom(opts);
        const request = cutRequestOf(opts);
        if (opts.until !== undefined && request.asKnownAt !== undefined)
          throw usageError(['--until is the old name of --as-known-at: give one of them']);
        const until = opts.until === undefined ? undefined : untilPosition(opts.until);
        const customerId =
          opts.customer === undefined ? undefined : option('--customer', CustomerId, opts.customer);
        const batchSize = option('--batch-size', positiveInt(10_000), opts.batchSize);
        const format = option('--format', z.enum(['ndjson', 'csv']), opts.format);
        const { store, vault } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
        try {
          const from = opts.after === undefined ? 0 : await afterPosition(store, opts.after);
          const cut = await resolveCut(store, {
            ...request,
            ...(until === undefined ? {} : { asKnownAt: { position: until } }),
          });
          const to = cut.position;
          if (to !== undefined && to < from) {
            throw usageError([`the cut (position ${to}) is before --after (position ${from})`]);
          }
          const out: Writable = opts.out === undefined ? process.stdout : privateFileStream(opts.out);
          const tty = process.stderr.isTTY;
          const head = to ?? (await store.headPosition());
          const result = await exportEvents(store, vault, out, {
            format,
            after: from,
            ...(to === undefined ? {} : { until: to }),
            ...(cut.asOf === undefined ? {} : { asOf: cut.asOf }),
            ...(customerId === undefined ? {} : { customerId }),
            keepCiphertext: opts.keepCiphertext === true,
            batchSize,
            onProgress: (written, position) => {
              if (tty) process.stderr.write(`\rexported ${written} events (position ${position} of ${head})`);
            },
          });
          if (out !== process.stdout)
            await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
          if (result.written === 0) {
            // like grep (and `void`, `replay` here): an empty selection is exit code 1, said in words
            const why = await whyNothingMatched(store, {
              after: from,
              until: result.until,
              ...(customerId === undefined ? {} : { customerId }),
              ...(cut.asOf === undefined ? {} : { cut: describeCut({ asOf: cut.asOf }) }),
            });
            process.stderr.write(`${tty ? '\n' : ''}no events matched: ${why}; nothing exported\n`);
            process.exitCode = EXIT_DATA;
            return;
          }
          process.stderr.write(
            `${tty ? '\n' : ''}exported ${result.written} events (positions ${from + 1}-${result.until}` +
              `${cut.asOf === undefined ? '' : `, ${describeCut({ asOf: cut.asOf })}`})` +
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
