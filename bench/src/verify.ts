/**
 * Verify benchmark: what tamper evidence costs.
 *
 * 1. The seeded history (one append per customer, like `crm-ledger seed`: the links are computed by the store
 *    as it appends) is prepared once and cached by seed and size (not timed).
 * 2. The notary folds the whole log into digests from scratch (every 10,000 events).
 * 3. `verifyLedger` (what `crm-ledger verify` runs) over the whole log, against the raw limit measured in the
 *    same run before and after it: reading the same log through the same store, nothing else.
 * 4. `crm-ledger verify --json` as a child process, as an operator runs it.
 * 5. The link on the append path: CPU µs per event of `chainLink` over the canonical bodies of the history,
 *    beside `canonicalJson` (which the store computes anyway).
 * CPU µs per event (process.cpuUsage, user + system) are the numbers to trust on a shared machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { LedgerNotary, verifyLedger } from '@crm-ledger/audit';
import { GENESIS_LINK, canonicalJson, chainLink } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { openSqliteDigestStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { runMain, tempDir, track } from './lib/cleanup.js';

const HELP = `Usage: node bench/dist/verify.js [options]

Options:
  --events <n>        history size (default 1000000)
  --customers <n>     customers (default events / 100)
  --seed <n>          generator seed (default 42)
  --every <n>         events per digest (default 10000)
  --link-events <n>   events of the link micro-benchmark (default 200000)
  --cache-dir <dir>   where the prepared ledger is kept (default $TMPDIR/crm-ledger-bench-chain)
  --out <file>        write the results as JSON
  --smoke             a smoke run: ~3,000 events, a throw-away cache (CI)
  --help`;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    customers: { type: 'string' },
    seed: { type: 'string', default: '42' },
    every: { type: 'string', default: '10000' },
    'link-events': { type: 'string', default: '200000' },
    'cache-dir': { type: 'string', default: path.join(tmpdir(), 'crm-ledger-bench-chain') },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP + '\n');
  process.exit(0);
}
if (values.smoke)
  Object.assign(values, {
    events: '3000',
    every: '500',
    'link-events': '2000',
    'cache-dir': tempDir('crm-ledger-bench-chain-'),
  });
const events = Number(values.events);
const customers =
  values.customers === undefined ? Math.max(1, Math.round(events / 100)) : Number(values.customers);
const seed = Number(values.seed);
const every = Number(values.every);
const linkEvents = Number(values['link-events']);

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function prepare(dir: string): Promise<void> {
  const file = path.join(dir, 'ledger.sqlite');
  if (existsSync(file)) return;
  const tmpDir = `${dir}.tmp`;
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  const store = openSqliteEventStore({
    file: path.join(tmpDir, 'ledger.sqlite'),
    synchronous: 'normal',
    validation: 'envelope',
  });
  let n = 0;
  for (const h of generateHistory({ seed, customers, targetEvents: events })) {
    for (let i = 0; i < h.events.length; i += 5_000) {
      const r = await store.append(customerStream(h.customerId), h.events.slice(i, i + 5_000));
      if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
    }
    n += h.events.length;
    if (h.customerId.endsWith('000')) process.stderr.write(`\r  preparing ${n} events`);
  }
  await store.close();
  renameSync(tmpDir, dir);
  process.stderr.write(`\r  prepared ${n} events\n`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; cpuMicros: number }> {
  const c0 = cpuMicros();
  const t0 = performance.now();
  const result = await fn();
  return { result, seconds: (performance.now() - t0) / 1000, cpuMicros: cpuMicros() - c0 };
}

async function main(): Promise<void> {
  const dir = path.join(values['cache-dir'], `seed${seed}-c${customers}-e${events}`);
  mkdirSync(values['cache-dir'], { recursive: true });
  await prepare(dir);
  const file = path.join(dir, 'ledger.sqlite');
  const load = [loadavg()[0]!];
  const store = openSqliteEventStore({ file });
  const digests = openSqliteDigestStore(file);
  const db = new Database(file);
  db.exec('DELETE FROM ledger_digests');
  db.close();

  const rate = (n: number, s: number) => Math.round(n / s);
  const perEvent = (cpu: number, n: number) => round(cpu / n);

  const notary = await timed(() => new LedgerNotary({ store, digests, every }).notarise({ tail: true }));
  const count = notary.result[notary.result.length - 1]!.count;
  const rawRead = async () => {
    let n = 0;
    for await (const page of store.readAll({ batchSize: 2_000 })) n += page.length;
    return n;
  };
  const rawBefore = await timed(rawRead);
  const verify = await timed(async () =>
    verifyLedger(store, { digests: await digests.all(), batchSize: 2_000 }),
  );
  const rawAfter = await timed(rawRead);
  // The external reference: plain better-sqlite3 and node:crypto, no code of ours: every row in stream order,
  // its link recomputed (SHA-256 over previous link, stream, revision and the stored bytes) and compared.
  const rawSqlSha256 = await timed(() => {
    const raw = new Database(file, { readonly: true });
    let rows = 0;
    let bad = 0;
    let stream = '';
    let prev = '';
    for (const r of raw
      .prepare('SELECT stream_name, revision, body, hash FROM events ORDER BY stream_name, revision')
      .raw(true)
      .iterate() as IterableIterator<[string, number, string, string]>) {
      if (r[0] !== stream) {
        stream = r[0];
        prev = GENESIS_LINK;
      }
      const link = createHash('sha256').update(`${prev}\n${r[0]}\n${r[1]}\n`).update(r[2]).digest('hex');
      if (link !== r[3]) bad++;
      prev = r[3];
      rows++;
    }
    raw.close();
    if (bad > 0) throw new Error(`raw SHA-256 check: ${bad} links differ`);
    return Promise.resolve(rows);
  });
  if (!verify.result.ok) throw new Error(`verify failed: ${JSON.stringify(verify.result.problem)}`);
  load.push(loadavg()[0]!);
  await digests.close();
  await store.close();

  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../services/cli/dist/main.js');
  const t0 = performance.now();
  const run = promisify(execFile)(process.execPath, [cli, 'verify', '--data-dir', dir, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  track(run.child);
  const out = (await run).stdout;
  const cliSeconds = (performance.now() - t0) / 1000;
  const cliReport = JSON.parse(out) as { ok: boolean; events: number; eventsPerSecond: number };
  if (!cliReport.ok) throw new Error('crm-ledger verify failed');

  // The link on the append path: bodies prepared outside the timed sections.
  const bodies: { stream: string; body: string }[] = [];
  const envelopes: unknown[] = [];
  for (const h of generateHistory({
    seed: seed + 1,
    customers: Math.ceil(linkEvents / 100),
    targetEvents: linkEvents,
  })) {
    for (const e of h.events) {
      envelopes.push(e);
      bodies.push({ stream: customerStream(h.customerId), body: canonicalJson(e) });
    }
  }
  const jsonCost = await timed(async () => {
    let x = 0;
    for (const e of envelopes) x += canonicalJson(e).length;
    return Promise.resolve(x);
  });
  const linkCost = await timed(async () => {
    let link = GENESIS_LINK;
    for (let i = 0; i < bodies.length; i++) link = chainLink(link, bodies[i]!.stream, i, bodies[i]!.body);
    return Promise.resolve(link);
  });
  load.push(loadavg()[0]!);

  const rawSeconds = (rawBefore.seconds + rawAfter.seconds) / 2;
  const rawCpu = (rawBefore.cpuMicros + rawAfter.cpuMicros) / 2;
  const results = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverage: load.map((l) => round(l)),
    events: count,
    customers,
    seed,
    every,
    notary: {
      digests: notary.result.length,
      seconds: round(notary.seconds),
      eventsPerSecond: rate(count, notary.seconds),
      cpuMicrosPerEvent: perEvent(notary.cpuMicros, count),
    },
    rawRead: {
      seconds: round(rawSeconds),
      eventsPerSecond: rate(count, rawSeconds),
      cpuMicrosPerEvent: perEvent(rawCpu, count),
      before: { seconds: round(rawBefore.seconds), cpuMicrosPerEvent: perEvent(rawBefore.cpuMicros, count) },
      after: { seconds: round(rawAfter.seconds), cpuMicrosPerEvent: perEvent(rawAfter.cpuMicros, count) },
    },
    rawSqlSha256: {
      what: 'plain better-sqlite3 SELECT in stream order + node:crypto SHA-256 of every link (external reference)',
      seconds: round(rawSqlSha256.seconds),
      eventsPerSecond: rate(count, rawSqlSha256.seconds),
      cpuMicrosPerEvent: perEvent(rawSqlSha256.cpuMicros, count),
    },
    verify: {
      streams: verify.result.streams,
      digests: verify.result.digests,
      seconds: round(verify.seconds),
      eventsPerSecond: rate(count, verify.seconds),
      cpuMicrosPerEvent: perEvent(verify.cpuMicros, count),
      xRawWall: round(rawSeconds / verify.seconds),
      xRawCpu: round(rawCpu / verify.cpuMicros),
      xRawSqlSha256Wall: round(rawSqlSha256.seconds / verify.seconds),
    },
    cli: {
      command: `node services/cli/dist/main.js verify --data-dir ${dir} --json`,
      processSeconds: round(cliSeconds),
      reportedEventsPerSecond: cliReport.eventsPerSecond,
    },
    appendPathLink: {
      events: bodies.length,
      chainLinkCpuMicrosPerEvent: perEvent(linkCost.cpuMicros, bodies.length),
      canonicalJsonCpuMicrosPerEvent: perEvent(jsonCost.cpuMicros, bodies.length),
    },
  };
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(results, null, 2) + '\n');
}

runMain(main);
