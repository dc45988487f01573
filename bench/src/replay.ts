/**
 * Replay benchmark: the seeded history (one append per customer, like `crm-ledger seed`) replayed through all
 * four projections from an empty read model, against the raw limit measured in the same run: reading the
 * global log through the same store and JSON-parsing every event, nothing else. Each measurement runs in a
 * child process of its own (so peak RSS is its own). Then customer 360 latency over the replayed views.
 *
 * Preparing the event store (generation + appends) is not timed; the file is cached by seed and size.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { fixedClock } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { replay } from '@crm-ledger/projector';
import { customer360, type QueryContext } from '@crm-ledger/query-api';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { customerIdOf, generateHistory } from '@crm-ledger/synthetic';
import { forkTracked, runMain, tempDir } from './lib/cleanup.js';
import { ioSince, machine, readIo } from './lib/io.js';

const HELP = `Usage: node bench/dist/replay.js [options]

Replays the seeded history through the service, success, experience and value projections into an empty
read model, and reads the same log doing nothing but JSON.parse (the raw limit), in the same run.

Options:
  --events <list>     history sizes, comma-separated (default 1000000)
  --customers <n>     customers (default events / 100)
  --seed <n>          generator seed (default 42)
  --batch <n>         events per page and per transaction, for the replay and the raw read (default 2000)
  --threads <n>       replay threads: the customers split between worker threads (default: cores, at most 4;
                      1 = the single-thread replay)
  --runs <n>          replays per size (default 1): medians are reported
  --queries <n>       customer 360 queries to time after the largest replay (default 2000)
  --cache-dir <dir>   where prepared event stores are kept (default $TMPDIR/crm-ledger-bench)
  --out <file>        write the results as JSON there
  --smoke             a smoke run: ~3,000 events, 30 customers, 2 threads, 20 queries, a throw-away cache (CI)
  --help`;

interface ChildTask {
  readonly kind: 'raw' | 'raw-sql' | 'replay' | 'query';
  readonly eventsFile: string;
  readonly batch: number;
  readonly queries: number;
  readonly customers: number;
  readonly workDir: string;
  readonly threads: number;
}

interface ChildResult {
  readonly kind: ChildTask['kind'];
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly peakRssMiB: number;
  /** CPU seconds (user + system) of the measured section: steadier than wall time on a shared machine. */
  readonly cpuSeconds: number;
  readonly query360?: {
    readonly n: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    /** CPU time of the query itself (not waiting for a core on a busy machine). */
    readonly cpuP50Ms: number;
    readonly cpuP99Ms: number;
  };
  readonly readModelMiB?: number;
  readonly readModelBytes?: number;
  /** Replay with threads: CPU seconds of each worker thread (Linux). */
  readonly threadCpuSeconds?: readonly number[];
  /** Bytes the process wrote (to storage; through write(2)) and read through read(2) in the measured section. */
  readonly io?: { readonly writeBytes: number; readonly wchar: number; readonly rchar: number } | null;
}

const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024);
const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

async function prepare(file: string, seed: number, customers: number, events: number): Promise<void> {
  if (existsSync(file)) return;
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true });
  const store = openSqliteEventStore({ file: tmp, synchronous: 'normal', validation: 'envelope' });
  const started = performance.now();
  let n = 0;
  for (const h of generateHistory({ seed, customers, targetEvents: events })) {
    for (let i = 0; i < h.events.length; i += 5_000) {
      const r = await store.append(customerStream(h.customerId), h.events.slice(i, i + 5_000));
      if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
    }
    n += h.events.length;
    if (h.customerId.endsWith('000')) process.stderr.write(`\r  preparing ${file}: ${n} events`);
  }
  await store.close();
  renameSync(tmp, file);
  process.stderr.write(
    `\r  prepared ${n} events in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

async function child(task: ChildTask): Promise<ChildResult> {
  const peak = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
  const cpu0 = process.cpuUsage();
  const cpu = (): number => {
    const u = process.cpuUsage(cpu0);
    return Math.round((u.user + u.system) / 10_000) / 100;
  };
  if (task.kind === 'raw-sql') {
    // Plain better-sqlite3: SELECT every body in position order and JSON.parse it: the floor of any reader.
    const db = new Database(task.eventsFile, { readonly: true });
    const started = performance.now();
    let n = 0;
    let last = 0;
    const page = db.prepare(
      'SELECT global_position, body FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?',
    );
    for (;;) {
      const rows = page.all(last, task.batch) as { global_position: number; body: string }[];
      if (rows.length === 0) break;
      for (const r of rows) if (JSON.parse(r.body) !== null) n++;
      last = rows[rows.length - 1]!.global_position;
    }
    const seconds = (performance.now() - started) / 1000;
    db.close();
    return {
      kind: task.kind,
      events: n,
      seconds,
      eventsPerSecond: Math.round(n / seconds),
      peakRssMiB: peak(),
      cpuSeconds: cpu(),
    };
  }
  const store = openSqliteEventStore({ file: task.eventsFile, synchronous: 'normal' });
  if (task.kind === 'raw') {
    // The store's readAll reads pages of the global log and JSON.parses every event: nothing else.
    const started = performance.now();
    let n = 0;
    for await (const page of store.readAll({ batchSize: task.batch })) n += page.length;
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    return {
      kind: task.kind,
      events: n,
      seconds,
      eventsPerSecond: Math.round(n / seconds),
      peakRssMiB: peak(),
      cpuSeconds: cpu(),
    };
  }
  const rmFile = path.join(task.workDir, 'readmodel.sqlite');
  if (task.kind === 'query') {
    // A fresh process over the replayed views, as a query service would be: customer 360 latency.
    const readModel = openSqliteReadModel({ file: rmFile, readonly: true });
    const ctx: QueryContext = { readModel, store };
    const asOf = fixedClock('2026-01-01T00:00:00Z').now();
    let x = 12345;
    const latencies: number[] = [];
    const cpuLatencies: number[] = [];
    for (let i = 0; i < task.queries + 100; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const id = customerIdOf(1 + (x % task.customers));
      const t = performance.now();
      const c = process.cpuUsage();
      const r = await customer360(ctx, id, asOf, { timelineLimit: 50 });
      const ms = performance.now() - t;
      const cu = process.cpuUsage(c);
      if (r._tag === 'Left') throw new Error(`no customer ${id}`);
      if (i >= 100) {
        // the first 100 warm up the JIT and the page cache
        latencies.push(ms);
        cpuLatencies.push((cu.user + cu.system) / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    cpuLatencies.sort((a, b) => a - b);
    const r2 = (v: number): number => Math.round(v * 100) / 100;
    const query360 = {
      n: latencies.length,
      p50Ms: r2(percentile(latencies, 0.5)),
      p99Ms: r2(percentile(latencies, 0.99)),
      maxMs: r2(latencies[latencies.length - 1] ?? 0),
      cpuP50Ms: r2(percentile(cpuLatencies, 0.5)),
      cpuP99Ms: r2(percentile(cpuLatencies, 0.99)),
    };
    await readModel.close();
    await store.close();
    return {
      kind: 'query',
      events: 0,
      seconds: 0,
      eventsPerSecond: 0,
      peakRssMiB: peak(),
      cpuSeconds: cpu(),
      query360,
    };
  }
  rmSync(rmFile, { force: true });
  // Bytes written by the replay alone: from opening the empty read model to closing it (checkpoint at close).
  const io0 = readIo();
  const readModel = openSqliteReadModel({ file: rmFile, synchronous: 'normal' });
  const result = await replay({
    store,
    readModel,
    batchSize: task.batch,
    ...(task.threads > 1
      ? {
          parallel: {
            storeFile: task.eventsFile,
            readModelFile: rmFile,
            synchronous: 'normal',
            threads: task.threads,
          },
        }
      : {}),
  });
  const replayRss = peak();
  const replayCpu = cpu();
  await readModel.close();
  await store.close();
  const io = ioSince(io0);
  return {
    kind: 'replay',
    io: io === null ? null : { writeBytes: io.writeBytes, wchar: io.wchar, rchar: io.rchar },
    events: result.events,
    seconds: result.seconds,
    eventsPerSecond: result.eventsPerSecond,
    peakRssMiB: replayRss,
    cpuSeconds: replayCpu,
    readModelMiB: mib(statSync(rmFile).size),
    readModelBytes: statSync(rmFile).size,
    ...(result.threadCpuSeconds === undefined ? {} : { threadCpuSeconds: result.threadCpuSeconds }),
  };
}

function runChild(task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = forkTracked(fileURLToPath(import.meta.url), ['--child', JSON.stringify(task)], {
      stdio: 'inherit',
    });
    proc.on('message', (m) => resolve(m as ChildResult));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${task.kind} child exited with ${code}`));
    });
  });
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      events: { type: 'string', default: '1000000' },
      customers: { type: 'string' },
      seed: { type: 'string', default: '42' },
      batch: { type: 'string', default: '2000' },
      queries: { type: 'string', default: '2000' },
      threads: { type: 'string', default: String(Math.min(4, availableParallelism())) },
      runs: { type: 'string', default: '1' },
      'cache-dir': { type: 'string', default: path.join(tmpdir(), 'crm-ledger-bench') },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.child !== undefined) {
    const result = await child(JSON.parse(values.child) as ChildTask);
    process.send?.(result);
    return;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (values.smoke)
    Object.assign(values, {
      events: '3000',
      customers: '30',
      threads: '2',
      queries: '20',
      'cache-dir': tempDir('crm-ledger-bench-cache-'),
    });
  const sizes = values.events.split(',').map(Number);
  const seed = Number(values.seed);
  const batch = Number(values.batch);
  const threads = Number(values.threads);
  const runs = Number(values.runs);
  for (const [flag, v] of [
    ['--batch', batch],
    ['--threads', threads],
    ['--runs', runs],
    ...sizes.map((n) => ['--events', n] as const),
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
  mkdirSync(values['cache-dir'], { recursive: true });
  const workDir = tempDir('crm-ledger-replay-');
  const rows: string[] = [];
  const summary: string[] = [];
  const results: Record<string, unknown>[] = [];
  const loadBefore = load1();
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  process.stdout.write(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load ${load()}, node ${process.version}; ` +
      `replay threads ${threads}, ${runs} run(s) per size\n`,
  );
  {
    for (const [i, events] of sizes.entries()) {
      const customers = values.customers === undefined ? Math.round(events / 100) : Number(values.customers);
      const file = path.join(values['cache-dir'], `events-seed${seed}-c${customers}-e${events}.sqlite`);
      const prepIo0 = readIo();
      await prepare(file, seed, customers, events);
      const prepIo = ioSince(prepIo0);
      const base = { eventsFile: file, batch, customers, workDir, queries: 0, threads };
      const rawSql = await runChild({ ...base, kind: 'raw-sql' });
      // Raw reads and replays alternate (raw, replay, raw, ..., raw): on a shared machine both see the same
      // load; medians of each are compared.
      const raws = [await runChild({ ...base, kind: 'raw' })];
      const reps: ChildResult[] = [];
      for (let r = 0; r < runs; r++) {
        reps.push(await runChild({ ...base, kind: 'replay' }));
        raws.push(await runChild({ ...base, kind: 'raw' }));
      }
      const queries = i === sizes.length - 1 ? Number(values.queries) : 0;
      const query = queries > 0 ? await runChild({ ...base, kind: 'query', queries }) : undefined;
      const n = reps[0]!.events;
      const repWall = median(reps.map((r) => r.eventsPerSecond));
      const rawWall = median(raws.map((r) => r.eventsPerSecond));
      const repCpu = median(reps.map((r) => r.events / r.cpuSeconds));
      const rawCpu = median(raws.map((r) => r.events / r.cpuSeconds));
      const repSeconds = median(reps.map((r) => r.seconds));
      const repRss = Math.max(...reps.map((r) => r.peakRssMiB));
      const rawRss = Math.max(...raws.map((r) => r.peakRssMiB));
      // Critical path: the busiest worker thread plus what the other threads (main: setup, swap) ran. On an
      // idle machine with a core per thread, the replay's wall time is about this; single thread: all CPU.
      const critical = median(
        reps.map((r) =>
          r.threadCpuSeconds === undefined || r.threadCpuSeconds.length === 0
            ? r.cpuSeconds
            : r.cpuSeconds - r.threadCpuSeconds.reduce((a, b) => a + b, 0) + Math.max(...r.threadCpuSeconds),
        ),
      );
      const rawCpuSeconds = median(raws.map((r) => r.cpuSeconds));
      const criticalRatio = rawCpuSeconds / critical;
      const ratio = repWall / rawWall;
      const cpuRatio = repCpu / rawCpu;
      const fmt = (v: number): string => Math.round(v).toLocaleString('en');
      rows.push(
        `| ${n.toLocaleString('en')} | ${customers.toLocaleString('en')} | ${threads} | ${fmt(repWall)} | ` +
          `${fmt(rawWall)} | ${ratio.toFixed(2)} | ${fmt(rawSql.eventsPerSecond)} | ` +
          `${repSeconds.toFixed(1)} | ${fmt(repCpu)} | ${fmt(rawCpu)} | ${cpuRatio.toFixed(2)} | ` +
          `${repRss} | ${rawRss} | ${reps[0]!.readModelMiB ?? '?'} |`,
      );
      process.stdout.write(
        `${n} events (${runs} replays, ${raws.length} raw reads; medians): replay ${fmt(repWall)} ev/s ` +
          `(${repSeconds.toFixed(1)} s, peak RSS ${repRss} MiB), raw ${fmt(rawWall)} ev/s (peak RSS ${rawRss} MiB), ` +
          `ratio ${ratio.toFixed(2)}, raw SQL ${fmt(rawSql.eventsPerSecond)} ev/s; per CPU second: replay ` +
          `${fmt(repCpu)}, raw ${fmt(rawCpu)}, ratio ${cpuRatio.toFixed(2)}; replay runs ev/s ` +
          `${reps.map((r) => r.eventsPerSecond).join(' ')}; critical path ${critical.toFixed(1)} CPU-s ` +
          `(threads: ${reps.map((r) => (r.threadCpuSeconds ?? []).map((c) => c.toFixed(1)).join('+') || '-').join(', ')}), ` +
          `raw CPU-s / critical path ${criticalRatio.toFixed(2)}; load ${load()}\n`,
      );
      summary.push(
        `${n} events: replay ${fmt(repWall)}/s wall (${ratio.toFixed(2)}x raw ${fmt(rawWall)}/s), ` +
          `${fmt(repCpu)}/CPU-s (${cpuRatio.toFixed(2)}x raw), critical path ${fmt(n / critical)}/CPU-s ` +
          `(${criticalRatio.toFixed(2)}x raw), peak RSS ${repRss} MiB`,
      );
      const rmBytes = reps[0]!.readModelBytes ?? 0;
      const repIo = reps[0]!.io ?? null;
      results.push({
        events: n,
        customers,
        threads,
        batch,
        runs,
        replay: {
          eventsPerSecond: Math.round(repWall),
          seconds: Math.round(repSeconds * 100) / 100,
          eventsPerCpuSecond: Math.round(repCpu),
          peakRssMiB: repRss,
          readModelBytes: rmBytes,
          // Replay alone (the store was prepared before, measured apart below).
          writtenBytesPerEvent: repIo === null ? null : Math.round(repIo.writeBytes / n),
          wcharBytesPerEvent: repIo === null ? null : Math.round(repIo.wchar / n),
          writeAmplification:
            repIo === null || rmBytes === 0 ? null : Math.round((repIo.wchar / rmBytes) * 10) / 10,
          runsEventsPerSecond: reps.map((r) => r.eventsPerSecond),
        },
        references: {
          storeReadAllEventsPerSecond: Math.round(rawWall),
          rawSqlEventsPerSecond: rawSql.eventsPerSecond,
          what: 'plain better-sqlite3 SELECT of every body in position order + JSON.parse (external); the store readAll + JSON.parse (ours)',
        },
        ratioToStoreRead: Math.round(ratio * 100) / 100,
        ratioToRawSql: Math.round((repWall / rawSql.eventsPerSecond) * 100) / 100,
        storePreparation:
          prepIo === null
            ? null
            : { writtenBytes: prepIo.writeBytes, wcharBytes: prepIo.wchar, cached: prepIo.wchar === 0 },
        query360: query?.query360 ?? null,
      });
      process.stdout.write(
        `I/O: replay wrote ${repIo === null ? '?' : Math.round(repIo.writeBytes / n)} B/event to disk, ` +
          `${repIo === null ? '?' : Math.round(repIo.wchar / n)} B/event through write(2) ` +
          `(${repIo === null ? '?' : mib(repIo.wchar)} MiB for a ${mib(rmBytes)} MiB read model); ` +
          `store preparation ${prepIo === null ? '?' : mib(prepIo.wchar)} MiB through write(2)\n`,
      );
      if (query?.query360 !== undefined)
        process.stdout.write(
          `customer 360 at ${customers} customers: ${query.query360.n} queries, p50 ${query.query360.p50Ms} ms, ` +
            `p99 ${query.query360.p99Ms} ms, max ${query.query360.maxMs} ms (CPU time: p50 ${query.query360.cpuP50Ms} ms, p99 ${query.query360.cpuP99Ms} ms)\n`,
        );
    }
    process.stdout.write(
      '\n| events | customers | threads | replay events/s | raw events/s (store readAll + JSON.parse) | replay / raw | raw SQL + JSON.parse events/s | replay s | replay events/CPU-s | raw events/CPU-s | CPU ratio | replay peak RSS MiB | raw peak RSS MiB | read model MiB |\n' +
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n' +
        rows.join('\n') +
        '\n',
    );
    process.stdout.write(
      `\nSUMMARY replay (threads ${threads}, batch ${batch}, medians of ${runs}, load ${load()}): ${summary.join('; ')}\n`,
    );
  }
  if (values.out !== undefined) {
    const report = {
      benchmark: 'replay',
      date: new Date().toISOString(),
      machine: machine(),
      loadAverage1: { before: loadBefore, after: load1() },
      command: `node bench/dist/replay.js ${process.argv.slice(2).join(' ')}`,
      sqlite: {
        readModel:
          'journal_mode = WAL, synchronous = NORMAL, cache_size = 64 MiB, wal_autocheckpoint = 1000 pages (default)',
        bytes:
          'writeBytes: /proc/<pid>/io write_bytes (to storage); wchar: bytes through write(2); the replay process alone, read model opened to closed',
      },
      results,
    };
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`results written to ${values.out}\n`);
  }
}

runMain(main);
