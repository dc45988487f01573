import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { z } from 'zod';
import { PROJECTION_NAMES, type ProjectionName } from '@crm-ledger/projections';
import { replay } from '@crm-ledger/projector';
import { deploymentOf, describeDeployment } from '@crm-ledger/config';
import { openReadModel, openStore } from '../store.js';
import { option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption, syncOption } from './shared.js';

const Projection = z.enum(PROJECTION_NAMES);
const Until = z.union([
  z.string().regex(/^\d+$/, 'a global position').transform(Number),
  z.iso.datetime({ offset: false, message: 'a position or an ISO-8601 UTC time, e.g. 2025-06-30T23:59:59Z' }),
]);

export function replayCommand(): Command {
  return dataDirOption(syncOption(new Command('replay')))
    .description(
      'Rebuild views from position 0 into fresh (shadow) tables of <data-dir>/readmodel.sqlite and swap them in when ' +
        'complete: queries keep seeing the previous complete views meanwhile. Killed half-way, it resumes where it ' +
        'stopped on the next run (unless --restart). With --until, the views show the ledger as of that position or time ' +
        '(a running `crm-ledger start` then moves them forward again).',
    )
    .option(
      '--projection <name>',
      `a view to rebuild: ${PROJECTION_NAMES.join(', ')} (repeatable; default all)`,
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--until <position|time>',
      'stop at this global position, or at the last event recorded by this time',
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
        opts: SharedFlags & {
          projection: string[];
          until?: string;
          restart?: boolean;
          batchSize: string;
          threads: string;
        },
      ) => {
        const config = settingsFrom(opts);
        const names: ProjectionName[] = opts.projection.map((p) => option('--projection', Projection, p));
        const until = opts.until === undefined ? undefined : option('--until', Until, opts.until);
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
          const untilPosition =
            typeof until === 'string'
              ? await store.positionAt(until)
              : (until ?? (await store.headPosition()));
          bar.start(untilPosition, 0, { rate: 0, eta: '?' });
          const result = await replay({
            store,
            readModel,
            until: untilPosition,
            batchSize,
            resume: opts.restart !== true,
            ...(parallel === undefined ? {} : { parallel }),
            ...(names.length === 0 ? {} : { projections: names }),
            onProgress: (p) => bar.update(p.position, { rate: p.eventsPerSecond, eta: p.etaSeconds }),
          });
          bar.update(untilPosition);
          bar.stop();
          process.stdout.write(
            `replayed ${result.events} events up to position ${result.position} into ${names.length === 0 ? PROJECTION_NAMES.join(', ') : names.join(', ')} ` +
              `in ${result.seconds.toFixed(1)} s (${result.eventsPerSecond} events/s)` +
              (result.skipped > 0 ? `, ${result.skipped} unreadable events skipped` : '') +
              `; views swapped in (${file})\n`,
          );
        } finally {
          bar.stop();
          await readModel.close();
          await store.close();
        }
      },
    );
}
