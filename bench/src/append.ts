/**
 * Append benchmark: synthetic customer histories appended batched per customer (one append per customer)
 * into a fresh SQLite event store, against the raw limit (plain better-sqlite3 inserts of the same rows in
 * transactions of 10,000 with the same schema and pragmas). Each configuration runs in a child process of
 * its own, so its peak RSS is its own. Generation is not timed: histories are generated in chunks of
 * customers outside the timed sections, and only the appends (or inserts) of a chunk are timed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { GENESIS_LINK, canonicalJson, chainLink } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { EVENTS_DDL, INSERT_EVENT_SQL, openSqliteEventStore, pragmas } from '@crm-ledger/sqlite';
import { generateHistory, type CustomerHistory } from '@crm-ledger/synthetic';
import { forkTracked, runMain } from './lib/cleanup.js';
import { ioSince, readIo, type IoCounters } from './lib/io.js';

type Sync = 'full' | 'normal';
type Validation = 'catalogue' | 'envelope';
type Writer = 'thread' | 'inline';

interface RunConfig {
  readonly kind: 'store' | 'raw';
  readonly synchronous: Sync;
  readonly inflight: number;
  readonly validation: Validation;
  readonly writer: Writer;
  readonly seed: number;
  readonly customers: number;
  readonly events: number;
  readonly chunkCustomers: number;
  readonly rawTransaction: number;
}

interface RunResult {
  readonly kind: 'store' | 'raw';
  readonly synchronous: Sync;
  readonly inflight: number | null;
  readonly validation: Validation | null;
  readonly writer: Writer | null;
  readonly events: number;
  readonly commits: number;
  readonly timedSeconds: number;
  readonly untimedGenerationSeconds: number;
  readonly eventsPerSecond: number;
  /** CPU time (user + system) of the timed sections per event: less sensitive to other load than wall time. */
  readonly cpuMicrosPerEvent: number;
  /**
   * The part of it spent by the thread that calls `append` (validation, canonical JSON, the benchmark loop),
   * from /proc/thread-self (Linux; null elsewhere). The rest is other threads: the store's writer thread,
   * V8's GC helpers. With 2 idle cores the two halves overlap, so the larger one bounds the rate.
   */
  readonly callerThreadCpuMicrosPerEvent: number | null;
  readonly appendLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number } | null;
  readonly peakRssMiB: number;
  readonly fileMiB: number;
  /**
   * Bytes this run's process wrote per event during the timed sections (/proc/self/io, every thread): writeBytes
   * to storage, wchar through write(2) (WAL frames and checkpoint copies). Null where /proc is missing.
   */
  readonly bytesPerEvent: { readonly writeBytes: number; readonly wchar: number } | null;
}

const HELP = `Usage: node bench/dist/append.js [options]

Appends generated customer histories into the SQLite event store (one append per customer) and measures
events/s, against plain better-sqlite3 inserts of the same rows (the raw limit).

Options:
  --customers <n>     customers to generate (default 10000)
  --events <n>        target number of events (default 1000000)
  --seed <n>          generator seed (default 42)
  --sync <list>       synchronous modes, comma-separated: full,normal (default full,normal)
  --inflight <list>   appends in flight, comma-separated (default 64,256): the store commits what is queued
                      as one group, so this bounds the group (256 appends ~ 26,000 events)
  --validation <list> store validation modes: catalogue,envelope (default catalogue)
  --writer <list>     store writer: thread (group commits in a writer thread, the default of the store),
                      inline (everything in the caller's thread); default thread
  --chunk-customers <n> customers generated (untimed) per timed section (default 1024); the pipeline drains
                      at the end of each section, so a larger chunk is closer to a continuous stream
  --raw-transaction <n> rows per transaction of the raw limit (default 10000, as issue 2 asks)
  --out <file>        write the results as JSON there (default: print only)
  --smoke             a smoke run: 200 customers, ~5,000 events, sync full, 4 in flight (seconds; CI)
  --help              show this help
`;

const now = (): bigint => process.hrtime.bigint();
const seconds = (ns: bigint): number => Number(ns) / 1e9;
const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/** CPU time of the calling thread alone (user + system, clock ticks of 10 ms), or NaN where unknown. */
const threadCpuMicros = (): number => {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
};
const perEvent = (micros: number, events: number): number | null =>
  Number.isFinite(micros) ? Math.round((micros / events) * 100) / 100 : null;

function* chunks(history: Iterable<CustomerHistory>, size: number): Generator<CustomerHistory[]> {
  let chunk: CustomerHistory[] = [];
  for (const c of history) {
    chunk.push(c);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function fileSizeMiB(file: string): number {
  let bytes = 0;
  for (const f of [file, `${file}-wal`]) {
    try {
      bytes += statSync(f).size;
    } catch {
      // no such file
    }
  }
  return Math.round((bytes / 1048576) * 10) / 10;
}

type Measured = Omit<RunResult, 'peakRssMiB' | 'fileMiB' | 'bytesPerEvent'>;

async function runStore(config: RunConfig, file: string): Promise<Measured> {
  const store = openSqliteEventStore({
    file,
    synchronous: config.synchronous,
    validation: config.validation,
    writer: config.writer,
  });
  const latencies: number[] = [];
  let timed = 0n;
  let cpu = 0;
  let threadCpu = 0;
  let generation = 0n;
  let events = 0;
  const history = generateHistory({
    seed: config.seed,
    customers: config.customers,
    targetEvents: config.events,
  });
  const iterator = chunks(history, config.chunkCustomers)[Symbol.iterator]();
  for (;;) {
    const g0 = now();
    const next = iterator.next();
    generation += now() - g0;
    if (next.done === true) break;
    const chunk = next.value;
    let i = 0;
    const c0 = cpuMicros();
    const th0 = threadCpuMicros();
    const t0 = now();
    await Promise.all(
      Array.from({ length: Math.min(config.inflight, chunk.length) }, async () => {
        while (i < chunk.length) {
          const c = chunk[i++]!;
          const a0 = now();
          const r = await store.append(customerStream(c.customerId), c.events, {
            expectedRevision: 'no_stream',
          });
          latencies.push(Number(now() - a0) / 1e6);
          if (E.isLeft(r)) throw new Error(`append of ${c.customerId} failed: ${JSON.stringify(r.left)}`);
          events += c.events.length;
        }
      }),
    );
    timed += now() - t0;
    cpu += cpuMicros() - c0;
    threadCpu += threadCpuMicros() - th0;
  }
  const head = await store.headPosition();
  await store.close();
  if (head !== events) throw new Error(`head position ${head} but ${events} events appended`);
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    kind: 'store',
    synchronous: config.synchronous,
    inflight: config.inflight,
    validation: config.validation,
    writer: config.writer,
    events,
    commits: latencies.length,
    timedSeconds: seconds(timed),
    untimedGenerationSeconds: seconds(generation),
    eventsPerSecond: Math.round(events / seconds(timed)),
    cpuMicrosPerEvent: Math.round((cpu / events) * 100) / 100,
    callerThreadCpuMicrosPerEvent: perEvent(threadCpu, events),
    appendLatencyMs: {
      p50: round(percentile(latencies, 0.5)),
      p99: round(percentile(latencies, 0.99)),
      max: round(latencies[latencies.length - 1] ?? 0),
    },
  };
}

function runRaw(config: RunConfig, file: string): Measured {
  const db = new Database(file);
  for (const p of pragmas(config.synchronous)) db.pragma(p);
  db.exec(EVENTS_DDL);
  const insert =
    db.prepare<[string, number, string, string, string, string, string, string]>(INSERT_EVENT_SQL);
  type Row = [string, number, string, string, string, string, string, string];
  const insertAll = db.transaction((rows: readonly Row[]) => {
    for (const r of rows) insert.run(...r);
  });
  const recordedAt = '2026-01-01T00:00:00.000Z';
  let timed = 0n;
  let cpu = 0;
  let threadCpu = 0;
  let generation = 0n;
  let events = 0;
  let commits = 0;
  let rows: Row[] = [];
  const flush = (count: number) => {
    const batch = rows.slice(0, count);
    rows = rows.slice(count);
    const c0 = cpuMicros();
    const th0 = threadCpuMicros();
    const t0 = now();
    insertAll(batch);
    timed += now() - t0;
    cpu += cpuMicros() - c0;
    threadCpu += threadCpuMicros() - th0;
    events += batch.length;
    commits++;
  };
  const history = generateHistory({
    seed: config.seed,
    customers: config.customers,
    targetEvents: config.events,
  });
  const iterator = history[Symbol.iterator]();
  for (;;) {
    // The same rows the store writes: stream, revision, id, type, customer, recorded_at, canonical JSON body,
    // chain link (computed here, untimed: the raw run measures SQLite alone).
    const g0 = now();
    const next = iterator.next();
    if (next.done !== true) {
      const stream = customerStream(next.value.customerId);
      let link = GENESIS_LINK;
      next.value.events.forEach((e, revision) => {
        const body = canonicalJson(e);
        link = chainLink(link, stream, revision, body);
        rows.push([stream, revision, e.eventId, e.type, e.customerId, recordedAt, body, link]);
      });
    }
    generation += now() - g0;
    while (rows.length >= config.rawTransaction) flush(config.rawTransaction);
    if (next.done === true) break;
  }
  if (rows.length > 0) flush(rows.length);
  db.close();
  return {
    kind: 'raw',
    synchronous: config.synchronous,
    inflight: null,
    validation: null,
    writer: null,
    events,
    commits,
    timedSeconds: seconds(timed),
    untimedGenerationSeconds: seconds(generation),
    eventsPerSecond: Math.round(events / seconds(timed)),
    cpuMicrosPerEvent: Math.round((cpu / events) * 100) / 100,
    callerThreadCpuMicrosPerEvent: perEvent(threadCpu, events),
    appendLatencyMs: null,
  };
}

async function child(config: RunConfig): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-bench-'));
  const file = path.join(dir, 'bench.sqlite');
  try {
    // Everything written from opening the file to closing it (the checkpoint at close included).
    const io0: IoCounters | null = readIo();
    const result = config.kind === 'store' ? await runStore(config, file) : runRaw(config, file);
    const io = ioSince(io0);
    return {
      ...result,
      bytesPerEvent:
        io === null
          ? null
          : {
              writeBytes: Math.round(io.writeBytes / result.events),
              wchar: Math.round(io.wchar / result.events),
            },
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      fileMiB: fileSizeMiB(file),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function inChild(config: RunConfig): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = forkTracked(fileURLToPath(import.meta.url), ['--child', JSON.stringify(config)], {
      stdio: 'inherit',
    });
    let result: RunResult | undefined;
    proc.on('message', (m) => {
      result = m as RunResult;
    });
    proc.on('error', reject);
    proc.on('exit', (code) =>
      result !== undefined && code === 0
        ? resolve(result)
        : reject(new Error(`run failed with code ${code}`)),
    );
  });
}

function list<T extends string>(value: string, allowed: readonly T[], name: string): T[] {
  const items = value.split(',').map((s) => s.trim());
  for (const i of items)
    if (!allowed.includes(i as T)) throw new Error(`--${name}: '${i}' is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: '${value}' is not a positive integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '10000' },
      events: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '42' },
      sync: { type: 'string', default: 'full,normal' },
      inflight: { type: 'string', default: '64,256' },
      validation: { type: 'string', default: 'catalogue' },
      writer: { type: 'string', default: 'thread' },
      'chunk-customers': { type: 'string', default: '1024' },
      'raw-transaction': { type: 'string', default: '10000' },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      child: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.child !== undefined) {
    const result = await child(JSON.parse(values.child) as RunConfig);
    process.send?.(result);
    return;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.smoke)
    Object.assign(values, {
      customers: '200',
      events: '5000',
      sync: 'full',
      inflight: '4',
      'chunk-customers': '64',
      'raw-transaction': '1000',
    });
  const base = {
    seed: Number(values.seed),
    customers: positiveInt(values.customers, 'customers'),
    events: positiveInt(values.events, 'events'),
    chunkCustomers: positiveInt(values['chunk-customers'], 'chunk-customers'),
    rawTransaction: positiveInt(values['raw-transaction'], 'raw-transaction'),
  };
  if (!Number.isSafeInteger(base.seed)) throw new Error(`--seed: '${values.seed}' is not an integer`);
  const syncs = list(values.sync, ['full', 'normal'] as const, 'sync');
  const inflights = values.inflight.split(',').map((s) => positiveInt(s, 'inflight'));
  const validations = list(values.validation, ['catalogue', 'envelope'] as const, 'validation');
  const writers = list(values.writer, ['thread', 'inline'] as const, 'writer');
  const runs: RunResult[] = [];
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  for (const synchronous of syncs) {
    // The raw limit runs before and after the store runs of the mode: the machine is shared, so the ratio
    // uses the mean of the two, which brackets a drift of the background load.
    const raw: RunConfig = {
      ...base,
      kind: 'raw',
      synchronous,
      inflight: 1,
      validation: 'catalogue',
      writer: 'inline',
    };
    const configs: RunConfig[] = [raw];
    for (const writer of writers)
      for (const validation of validations)
        for (const inflight of inflights)
          configs.push({ ...base, kind: 'store', synchronous, inflight, validation, writer });
    configs.push(raw);
    for (const config of configs) {
      const r = await inChild(config);
      runs.push(r);
      process.stdout.write(
        `${r.kind.padEnd(5)} sync=${r.synchronous.padEnd(6)} inflight=${String(r.inflight ?? '-').padEnd(3)} ` +
          `validation=${String(r.validation ?? '-').padEnd(9)} writer=${String(r.writer ?? '-').padEnd(6)} ${r.events} events in ${r.timedSeconds.toFixed(2)} s: ` +
          `${r.eventsPerSecond} events/s, ${r.cpuMicrosPerEvent} CPU µs/event, peak RSS ${r.peakRssMiB} MiB, ` +
          `written ${r.bytesPerEvent?.writeBytes ?? '?'} B/event to disk (${r.bytesPerEvent?.wchar ?? '?'} B/event through write(2))\n`,
      );
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const raws = (s: Sync) => runs.filter((r) => r.kind === 'raw' && r.synchronous === s);
  const rawRate = (s: Sync) => mean(raws(s).map((r) => r.eventsPerSecond));
  const rawCpu = (s: Sync) => mean(raws(s).map((r) => r.cpuMicrosPerEvent));
  const busiest = (r: RunResult) =>
    r.callerThreadCpuMicrosPerEvent === null
      ? r.cpuMicrosPerEvent
      : Math.max(r.callerThreadCpuMicrosPerEvent, r.cpuMicrosPerEvent - r.callerThreadCpuMicrosPerEvent);
  const table = runs.map((r) => ({
    ...r,
    /** This run's events/s over the mean events/s of the raw runs of the same mode. */
    ratioToRaw: round2(r.eventsPerSecond / rawRate(r.synchronous)),
    /** The same ratio in CPU time: raw CPU per event over this run's CPU per event. */
    cpuRatioToRaw: round2(rawCpu(r.synchronous) / r.cpuMicrosPerEvent),
    /** CPU per event of the busier of the caller's thread and all other threads: what bounds 2 idle cores. */
    busiestThreadCpuMicrosPerEvent: round2(busiest(r)),
    /** Raw CPU per event over that: the ratio to expect on 2 idle cores if the CPU is what limits. */
    twoCoreCpuRatioToRaw: round2(rawCpu(r.synchronous) / busiest(r)),
  }));
  const report = {
    benchmark: 'append',
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      totalMemGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    parameters: {
      ...base,
      syncs,
      inflights,
      validations,
      writers,
      generation: `in chunks of ${base.chunkCustomers} customers outside the timed sections`,
    },
    startedAt,
    sqlite: {
      pragmas: pragmas(syncs[0] ?? 'full'),
      bytesPerEvent:
        'bytes the process wrote from opening the file to closing it (final checkpoint included), /proc/self/io: writeBytes to storage, wchar through write(2)',
    },
    loadAverage1_5_15: {
      before: loadBefore.map((l) => l.toFixed(2)).join(' '),
      after: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    runs: table,
  };
  process.stdout.write(
    '\n| kind | synchronous | in flight | validation | writer | events | events/s | x raw | CPU µs/event (caller thread + others) | x raw (CPU) | busiest thread µs/event | x raw (2 idle cores, CPU) | p50 / p99 append ms | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of table) {
    process.stdout.write(
      `| ${r.kind} | ${r.synchronous} | ${r.inflight ?? '-'} | ${r.validation ?? '-'} | ${r.writer ?? '-'} | ${r.events} | ${r.eventsPerSecond} | ${r.ratioToRaw} | ` +
        `${r.cpuMicrosPerEvent} (${r.callerThreadCpuMicrosPerEvent ?? '?'} + ${r.callerThreadCpuMicrosPerEvent === null ? '?' : round2(r.cpuMicrosPerEvent - r.callerThreadCpuMicrosPerEvent)}) | ` +
        `${r.cpuRatioToRaw} | ${r.busiestThreadCpuMicrosPerEvent} | ${r.twoCoreCpuRatioToRaw} | ` +
        `${r.appendLatencyMs === null ? '-' : `${r.appendLatencyMs.p50} / ${r.appendLatencyMs.p99}`} | ${r.peakRssMiB} |\n`,
    );
  }
  // One line per store run that a re-run on another machine can be compared with at a glance.
  for (const r of table.filter((t) => t.kind === 'store')) {
    process.stdout.write(
      `\nSUMMARY append: store ${r.eventsPerSecond} events/s vs raw ${Math.round(rawRate(r.synchronous))} events/s ` +
        `(mean of before/after) = ${r.ratioToRaw.toFixed(2)}x raw [target >= 0.80] | ` +
        `CPU ${r.cpuMicrosPerEvent} vs ${round2(rawCpu(r.synchronous))} µs/event (all threads), ` +
        `busiest thread ${r.busiestThreadCpuMicrosPerEvent} => ${r.twoCoreCpuRatioToRaw.toFixed(2)}x raw on 2 idle cores | ` +
        `p99 append ${r.appendLatencyMs?.p99 ?? '-'} ms | peak RSS ${r.peakRssMiB} MiB | ` +
        `written ${r.bytesPerEvent?.writeBytes ?? '?'} B/event (raw ${raws(r.synchronous)[0]?.bytesPerEvent?.writeBytes ?? '?'}) | ` +
        `sync=${r.synchronous} inflight=${r.inflight} validation=${r.validation} writer=${r.writer} ` +
        `events=${r.events} | load ${report.loadAverage1_5_15.before} -> ${report.loadAverage1_5_15.after}`,
    );
  }
  process.stdout.write('\n');
  if (values.out !== undefined) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`\nresults written to ${values.out}\n`);
  }
}

runMain(main);
