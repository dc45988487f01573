/**
 * The cost of the query API's lists and aggregates at a past cut (`CutViews`): the first request for a cut
 * builds the four views into a scratch read model (SQLite in memory), later requests reuse it. Measured in the
 * same run against the raw limit (reading and parsing the log, no projection) and against `replay --as-of`
 * with the same cut into a read-model file (what a user would otherwise run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { customerStream } from '@crm-ledger/events';
import { CutViews, replay } from '@crm-ledger/projector';
import { openSqliteEventStore, openSqliteReadModel } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { onCleanUp, runMain, tempDir } from './lib/cleanup.js';
import { machine } from './lib/io.js';

const HELP = `Usage: node bench/dist/cut-views.js [--customers 1000] [--seed 7] [--as-of 2025-06-30] [--out FILE]
       node bench/dist/cut-views.js --smoke   (30 customers; CI)

Builds a synthetic ledger (the demo's generator), then times: the raw read of the log (JSON parse, no
projection), replay --as-of into a read-model file, the first list/aggregate request at that cut (the views
built in memory by CutViews), and a second request for the same cut. Writes JSON to --out (default
bench/results/cut-views.json; not with --smoke).
`;

const ms = (t0: number): number => Math.round(performance.now() - t0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '7' },
      'as-of': { type: 'string', default: '2025-06-30' },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const customers = values.smoke ? 30 : Number(values.customers);
  const asOf = `${values['as-of']}T23:59:59.999Z`;
  const dir = tempDir('crm-ledger-cut-views-');
  const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  onCleanUp(() => store.close());
  for (const h of generateHistory({ seed: Number(values.seed), customers })) {
    const r = await store.append(customerStream(h.customerId), h.events);
    if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
  }
  const events = await store.headPosition();

  let t0 = performance.now();
  let read = 0;
  for await (const page of store.readAll({ after: 0, batchSize: 5_000 })) read += page.length;
  const rawMs = ms(t0);

  const file = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
  onCleanUp(() => file.close());
  t0 = performance.now();
  await replay({ store, readModel: file, asOf, resume: false });
  const replayMs = ms(t0);

  const cuts = new CutViews({
    store,
    openScratch: () => Promise.resolve(openSqliteReadModel({ file: ':memory:' })),
  });
  onCleanUp(() => cuts.close());
  const count = (rm: { sql: typeof file.sql }) =>
    rm.sql({
      sqlite: 'SELECT COUNT(*) AS n FROM success_accounts',
      postgres: 'SELECT COUNT(*) AS n FROM success_accounts',
    });
  t0 = performance.now();
  const first = await cuts.withCut({ asOf }, (rm) => count(rm));
  const firstMs = ms(t0);
  t0 = performance.now();
  await cuts.withCut({ asOf }, (rm) => count(rm));
  const cachedMs = ms(t0);
  const rebuilt = await count(file);
  if (Number(first[0]?.['n']) !== Number(rebuilt[0]?.['n']))
    throw new Error(
      `the cut's accounts ${String(first[0]?.['n'])} != the rebuild's ${String(rebuilt[0]?.['n'])}`,
    );

  const result = {
    bench: 'cut-views',
    at: new Date().toISOString(),
    machine: machine(),
    customers,
    events,
    asOf,
    rawReadMs: rawMs,
    rawReadEventsPerSecond: Math.round((read / Math.max(rawMs, 1)) * 1000),
    replayAsOfMs: replayMs,
    firstRequestMs: firstMs,
    cachedRequestMs: cachedMs,
    firstVsRawRead: Math.round((firstMs / Math.max(rawMs, 1)) * 10) / 10,
    firstVsReplay: Math.round((firstMs / Math.max(replayMs, 1)) * 100) / 100,
    accountsAtCut: Number(first[0]?.['n']),
  };
  process.stdout.write(
    `SUMMARY cut-views: ${events} events (${customers} customers), as of ${asOf}: raw read ${rawMs} ms; ` +
      `replay --as-of ${replayMs} ms; first request at the cut ${firstMs} ms (${result.firstVsRawRead}x the raw ` +
      `read, ${result.firstVsReplay}x the replay); cached ${cachedMs} ms; ${result.accountsAtCut} accounts, as the rebuild\n`,
  );
  if (!values.smoke) {
    const out =
      values.out ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../results/cut-views.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  }
}

runMain(main);
