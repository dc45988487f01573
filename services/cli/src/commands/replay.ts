import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { z } from 'zod';
import { PROJECTION_NAMES, type ProjectionName } from '@crm-ledger/projections';
import { countCut, describeCut, isWholeLog, replay, resolveCut, type CutCount } from '@crm-ledger/projector';
import { installTestSeams } from '@crm-ledger/app';
import { deploymentOf, describeDeployment } from '@crm-ledger/config';
import { openReadModel, openStore } from '../store.js';
import { cutRequestOf, untilPosition } from '../cut-flags.js';
import { EXIT_DATA, option, positiveInt, settingsFrom, usageError, type SharedFlags } from '../settings.js';
import { cutOptions, dataDirOption, syncOption, type CutFlags } from './shared.js';

const Projection = z.enum(PROJECTION_NAMES);
const n = (x: number): string => x.toLocaleString('en-US');

/** What the cut selects, in one line (printed before anything is rebuilt). */
function selection(cutText: string, count: CutCount, views: string, plural: boolean, live: number): string {
  const span =
    count.firstOccurredAt === undefined
      ? ''
      : ` (occurred ${count.firstOccurredAt.slice(0, 10)} to ${count.lastOccurredAt!.slice(0, 10)})`;
  return (
    `cut ${cutText}: selects ${n(count.selected)} events up to position ${count.position}${span}; ` +
    `the live ${views} ${plural ? 'were' : 'was'} built from ${n(count.live)} events (up to position ${live})\n`
  );
}

export function replayCommand(): Command {
  return cutOptions(dataDirOption(syncOption(new Command('replay'))))
    .description(
      'Rebuild views from position 0 into fresh (shadow) tables of <data-dir>/readmodel.sqlite and swap them in when ' +
        'complete: queries keep seeing the previous complete views meanwhile. Killed half-way, it resumes where it ' +
        'stopped on the next run (unless --restart). With a cut (--as-of: business time, --as-known-at: ledger time, or ' +
        'both) the views show what had happened by then as the ledger knew it then. It first prints what the cut ' +
        'selects, and refuses a cut that selects no event or fewer than the live views were built from, unless ' +
        '--allow-fewer; --dry-run only prints that.',
    )
    .option(
      '--projection <name>',
      `a view to rebuild: ${PROJECTION_NAMES.join(', ')} (repeatable; default all)`,
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--until <position>',
      'the old name of --as-known-at <position> (a time is refused: say --as-of or --as-known-at)',
    )
    .option('--dry-run', 'print what the cut selects and what the live views hold; rebuild nothing')
    .option(
      '--allow-fewer',
      'rebuild even when the cut selects no event, or fewer than the live views were built from',
    )
    .option('--restart', 'discard an unfinished rebuild and start again from position 0')
    .option('--batch-size <n>', 'events per transaction', '2000')
    .option(
      '--threads <n>',
      'worker threads, the customers split between them (SQLite store and read models; default: the cores, 1 = no worker)',
      String(availableParallelism()),
    )
    .action(
      async (
        opts: SharedFlags &
          CutFlags & {
            projection: string[];
            until?: string;
            dryRun?: boolean;
            allowFewer?: boolean;
            restart?: boolean;
            batchSize: string;
            threads: string;
          },
      ) => {
        const config = settingsFrom(opts);
        installTestSeams(process.env);
        const names: ProjectionName[] = opts.projection.map((p) => option('--projection', Projection, p));
        const request = cutRequestOf(opts);
        if (opts.until !== undefined && request.asKnownAt !== undefined)
          throw usageError(['--until is the old name of --as-known-at: give one of them']);
        const until = opts.until === undefined ? undefined : untilPosition(opts.until);
        const batchSize = option('--batch-size', positiveInt(1_000_000), opts.batchSize);
        const threads = option('--threads', positiveInt(64), opts.threads);
        const deployment = deploymentOf(config);
        // Threads open the files themselves: only for the embedded SQLite store and read models.
        const parallel =
          threads > 1 && deployment.eventStore.kind === 'sqlite' && deployment.readModel.kind === 'sqlite'
            ? {
                storeFile: deployment.eventStore.file,
                readModelFile: deployment.readModel.file,
                synchronous: deployment.readModel.synchronous,
                threads,
              }
            : undefined;
        const { store } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
        const readModel = await openReadModel(config, config.CRM_LEDGER_DATA_DIR);
        const file = describeDeployment(deployment).split('; ')[1]!;
        const bar = new cliProgress.SingleBar(
          {
            format: 'replay [{bar}] {percentage}% | {value}/{total} | {rate} events/s | ETA {eta}s',
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        try {
          const cut = await resolveCut(store, {
            ...request,
            ...(until === undefined ? {} : { asKnownAt: { position: until } }),
          });
          const views = names.length === 0 ? PROJECTION_NAMES : names;
          const viewsText = views.length === PROJECTION_NAMES.length ? 'views' : `${views.join(', ')} view`;
          let live = 0;
          for (const name of views) live = Math.max(live, await readModel.checkpoint(name, 'live'));
          // A rebuild of the whole log holds every event the live views hold (they are at or before the head):
          // nothing to count, which spares a read of the whole log.
          const head = isWholeLog(cut) ? await store.headPosition() : undefined;
          const whole = head !== undefined && head > 0 && head >= live;
          const count = whole
            ? { read: 0, selected: 1, live: 0, position: head }
            : await countCut(store, cut, live);
          const untilPosition = count.position;
          process.stdout.write(
            whole
              ? `cut the whole log: every event up to position ${head}; the live ${viewsText} ${views.length > 1 ? 'are' : 'is'} at position ${live}\n`
              : selection(describeCut(cut), count, viewsText, views.length > 1, live),
          );
          const shrinks = count.selected === 0 || count.selected < count.live;
          const refusal = shrinks
            ? count.selected === 0
              ? 'the cut selects no event: the rebuilt views would be empty'
              : `the cut selects ${n(count.selected)} events, fewer than the ${n(count.live)} the live ${viewsText} ${views.length > 1 ? 'were' : 'was'} built from: the rebuilt ${views.length > 1 ? 'views' : 'view'} would lose ${n(count.live - count.selected)}`
            : undefined;
          if (opts.dryRun === true) {
            process.stdout.write(
              `dry run: nothing rebuilt${refusal === undefined ? '' : `; a rebuild would be refused without --allow-fewer (${refusal})`}\n`,
            );
            return;
          }
          if (refusal !== undefined && opts.allowFewer !== true) {
            process.stderr.write(
              `crm-ledger: replay refused: ${refusal}. Nothing was changed. Check the cut (--dry-run shows it), or add --allow-fewer to rebuild anyway.\n`,
            );
            process.exitCode = EXIT_DATA;
            return;
          }
          bar.start(untilPosition, 0, { rate: 0, eta: '?' });
          const result = await replay({
            store,
            readModel,
            until: untilPosition,
            ...(cut.asOf === undefined ? {} : { asOf: cut.asOf }),
            batchSize,
            // A business-time rebuild never resumes a shadow built by another cut (nor lets one resume it).
            resume: opts.restart !== true && cut.asOf === undefined,
            ...(parallel === undefined ? {} : { parallel }),
            ...(names.length === 0 ? {} : { projections: names }),
            onProgress: (p) => bar.update(p.position, { rate: p.eventsPerSecond, eta: p.etaSeconds }),
          });
          bar.update(untilPosition);
          bar.stop();
          process.stdout.write(
            `replayed ${result.events} events${cut.asOf === undefined ? '' : ` (${count.selected} in the cut)`} up to position ${result.position} into ${names.length === 0 ? PROJECTION_NAMES.join(', ') : names.join(', ')} ` +
              `in ${result.seconds.toFixed(1)} s (${result.eventsPerSecond} events/s)` +
              (result.skipped > 0 ? `, ${result.skipped} unreadable events skipped` : '') +
              `; views swapped in (${file})\n`,
          );
          if (cut.asOf !== undefined)
            process.stdout.write(
              `the rebuilt ${viewsText} ${views.length > 1 ? 'show' : 'shows'} ${describeCut({ ...cut, position: untilPosition })}: ` +
                `a running projector would add events recorded after position ${untilPosition} on top; ` +
                '`crm-ledger replay` without --as-of returns to the live views\n',
            );
        } finally {
          bar.stop();
          await readModel.close();
          await store.close();
        }
      },
    );
}
