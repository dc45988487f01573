import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import {
  exportDigest,
  parseExportedDigest,
  verifyLedger,
  type ExportedDigest,
  type VerifyProblem,
  type VerifyReport,
} from '@crm-ledger/audit';
import { deploymentOf } from '@crm-ledger/config';
import { CHAIN_ALGORITHM, systemClock, type LedgerDigest } from '@crm-ledger/core';
import { readChainBackfill, type ChainBackfill } from '@crm-ledger/sqlite';
import { openDigestStore } from '@crm-ledger/app';
import { openStore } from '../store.js';
import { EXIT_DATA, usageError, option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption } from './shared.js';

const EXAMPLES = `
Examples:
  crm-ledger verify                                    check every hash chain and digest of ./.data
  crm-ledger verify --export-digest audit-2025-06.json give the latest digest to an auditor
  crm-ledger verify --against audit-2025-06.json       later: is history up to that digest unchanged?
  crm-ledger verify --json | jq .problem               machine-readable report

Exit codes: 0 every link and digest holds; 1 a broken link, digest or unreadable event (named precisely);
2 a wrong command line, configuration or digest file.`;

interface VerifyFlags extends SharedFlags {
  exportDigest?: string;
  against?: string;
  json?: boolean;
  batchSize: string;
}

export function verifyCommand(): Command {
  return dataDirOption(new Command('verify'))
    .description(
      'Check that history was not rewritten: streams the whole global log (never all in memory), recomputes the ' +
        'hash chain of every stream (each link over the previous link and the stored bytes) and every digest the ' +
        'notary of `crm-ledger start` recorded, and names the first broken link precisely. Read-only.',
    )
    .option(
      '--export-digest <file>',
      'after a successful check, write the latest digest as JSON for an auditor',
    )
    .option(
      '--against <file>',
      'also check that the log up to an exported digest still gives that digest (even if every link was recomputed)',
    )
    .option('--json', 'print the report as JSON on stdout')
    .option('--batch-size <n>', 'events read per page', '2000')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: VerifyFlags) => {
      const config = settingsFrom(opts);
      const batchSize = option('--batch-size', positiveInt(100_000), opts.batchSize);
      const against = opts.against === undefined ? undefined : readAgainst(opts.against);
      const deployment = deploymentOf(config);
      const es = deployment.eventStore;
      if (es.kind === 'sqlite' && !existsSync(es.file)) {
        throw usageError([`no ledger at ${es.file} (--data-dir or CRM_LEDGER_DATA_DIR)`]);
      }
      const backfill = es.kind === 'sqlite' ? readChainBackfill(es.file) : undefined;
      const { store } = await openStore(config, config.CRM_LEDGER_DATA_DIR);
      const digestStore = openDigestStore(deployment);
      const showProgress = process.stderr.isTTY && opts.json !== true;
      const bar = new cliProgress.SingleBar(
        {
          format: 'verify [{bar}] {percentage}% | {value}/{total} | {events} events',
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      try {
        const digests = await digestStore.all();
        const head = await store.headPosition();
        if (showProgress) bar.start(head, 0, { events: 0 });
        const report = await verifyLedger(store, {
          digests,
          batchSize,
          ...(against === undefined ? {} : { against: against.chain }),
          ...(showProgress
            ? { onProgress: (p) => bar.update(Math.min(p.position, head), { events: p.events }) }
            : {}),
        });
        if (showProgress) bar.stop();
        let exported: ExportedDigest | undefined;
        if (report.ok && opts.exportDigest !== undefined) {
          exported = exportDigest(digests, systemClock.now());
          if (exported === undefined) {
            throw usageError([
              'nothing to export: the notary has recorded no digest yet (`crm-ledger start` records one every 10,000 events and each minute)',
            ]);
          }
          writeFileSync(opts.exportDigest, JSON.stringify(exported, null, 2) + '\n');
        }
        const last = digests[digests.length - 1];
        if (opts.json === true) {
          process.stdout.write(
            JSON.stringify(
              {
                ...report,
                algorithm: CHAIN_ALGORITHM,
                lastDigest: last ?? null,
                backfill: backfill ?? null,
                against:
                  against === undefined
                    ? null
                    : { file: opts.against, number: against.number, position: against.position },
                exported:
                  exported === undefined ? null : { file: opts.exportDigest, ...exported, chain: undefined },
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          process.stdout.write(
            describeReport(report, {
              last,
              backfill,
              against,
              againstFile: opts.against,
              exportFile: exported && opts.exportDigest,
            }),
          );
        }
        if (!report.ok) process.exitCode = EXIT_DATA;
      } finally {
        bar.stop();
        await digestStore.close();
        await store.close();
      }
    });
}

function readAgainst(file: string): ExportedDigest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError([`--against: cannot read ${file}: ${(error as Error).message}`]);
  }
  const parsed = parseExportedDigest(text);
  if (E.isLeft(parsed)) {
    throw usageError([`--against: ${file} is not an exported digest:`, ...parsed.left.map((l) => `  ${l}`)]);
  }
  return parsed.right;
}

const n = (x: number) => x.toLocaleString('en-US');

function describeReport(
  report: VerifyReport,
  context: {
    last: LedgerDigest | undefined;
    backfill: ChainBackfill | undefined;
    against: ExportedDigest | undefined;
    againstFile: string | undefined;
    exportFile: string | undefined;
  },
): string {
  const { last, backfill, against } = context;
  const lines: string[] = [];
  const stats =
    `${n(report.events)} events, ${n(report.streams)} streams, ${n(report.digests)} digests` +
    (against === undefined ? '' : ` + ${n(report.exportedDigests)} exported`) +
    `, ${report.seconds.toFixed(1)} s (${n(report.eventsPerSecond)} events/s)`;
  if (report.ok) {
    lines.push(`verified: every link and digest holds: ${stats}`);
    if (against !== undefined) {
      lines.push(
        `  history up to position ${n(against.position)} still gives the exported digest ${against.number} of ${context.againstFile ?? ''}`,
      );
    }
    if (last === undefined && report.events > 0) {
      lines.push('  no digest recorded yet: `crm-ledger start` runs the notary that records them');
    } else if (last !== undefined && report.lastPosition > last.position) {
      lines.push(
        `  ${n(report.events - last.count)} events after the last digest (position ${n(last.position)}) are covered by their chains until the next digest`,
      );
    }
    if (context.exportFile !== undefined && last !== undefined) {
      lines.push(`  digest ${last.number} (position ${n(last.position)}) exported to ${context.exportFile}`);
    }
  } else {
    lines.push(`BROKEN: ${describeProblem(report.problem!, context.againstFile)}`);
    if (report.digestProblem !== undefined)
      lines.push(`  also: ${describeProblem(report.digestProblem, context.againstFile)}`);
    lines.push(`  checked before it: ${stats}`);
  }
  if (backfill !== undefined) {
    lines.push(
      `  note: the first ${n(backfill.events)} events (up to position ${n(backfill.position)}) were stored before the hash chain ` +
        `existed and linked on ${backfill.linkedAt}: their links prove they have not changed since then, not before`,
    );
  }
  return lines.join('\n') + '\n';
}

function describeProblem(problem: VerifyProblem, againstFile: string | undefined): string {
  switch (problem.type) {
    case 'ChainBreak': {
      const where = `stream ${problem.streamName}, revision ${problem.revision}, global position ${problem.globalPosition}, event ${problem.eventId}`;
      return problem.reason === 'link_mismatch'
        ? `${where}: its link is not the one computed from the previous link and its stored bytes ` +
            `(the event, or its stored link, was changed)\n  expected ${problem.expected}\n  found    ${problem.found}`
        : `${where}: revision ${problem.expected} of ${problem.streamName} should come next, found revision ${problem.found} ` +
            `(revision ${problem.expected} was deleted or moved)`;
    }
    case 'DigestBreak': {
      const whose =
        problem.source === 'ledger' ? 'recorded by the notary' : `of the exported file ${againstFile ?? ''}`;
      const head = `digest ${problem.number} at position ${problem.position} (${whose})`;
      return problem.reason === 'truncated'
        ? `${head}: the log ends before that position, after ${problem.found.count} events (events were removed)`
        : `${head}: the log up to that position no longer gives it: history before it was rewritten or events removed\n` +
            `  expected ${problem.expected.digest} over ${problem.expected.count} events\n` +
            `  found    ${problem.found.digest} over ${problem.found.count} events`;
    }
    case 'UnreadableLog':
      return `the log cannot be read after position ${problem.after}: ${problem.message} (a stored event was damaged)`;
  }
}
