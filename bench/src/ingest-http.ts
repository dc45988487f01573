/**
 * HTTP ingest benchmark, loaded as users load it: C concurrent clients; customer k belongs to client
 * k mod C, and a client sends its customers' events in order, in requests of up to --batch events
 * (`POST /v1/events/batch`), one request at a time (it waits for each answer). Customers are concurrent
 * across clients, a customer's events are never (their CustomerErased cannot overtake earlier events).
 *
 * For each client count, three runs over the same requests, each into a fresh SQLite store (synchronous = full):
 * - direct: the same clients calling the store in this process (`appendCustomerEvents`, what the HTTP handler
 *   calls), no HTTP;
 * - http: our clients (Node's fetch) against the real ingest process (services/ingest, or `crm-ledger start`);
 * - wrk: the external reference, Debian's `wrk` (C, one connection per thread, the same requests in the same
 *   order per client, bench/wrk/ingest.lua) against a fresh ingest process.
 * Reported: events/s, p50/p99 per request, the ratio to direct, and where the time goes: CPU seconds of the
 * ingest process (its main thread apart: JSON parsing, validation, HTTP) and of this process (the clients).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RawEnvelope } from '@crm-ledger/events';
import { appendCustomerEvents } from '@crm-ledger/ingest-api';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { onCleanUp, runMain, tempDir, track } from './lib/cleanup.js';
import { ioSince, machine, readIo } from './lib/io.js';

const HELP = `Usage: node bench/dist/ingest-http.js [options]

Options:
  --events <n>     target number of events (default 200000)
  --customers <n>  customers (default events / 100)
  --batch <n>      events per request at most: a customer's events in order, in requests of this size (default 100)
  --clients <list> concurrent clients, comma-separated (default 4,16,64)
  --seed <n>       generator seed (default 42)
  --server <kind>  ingest: the ingest API alone (services/ingest, default);
                   ledger: the whole ledger (crm-ledger start, with projector and query API)
  --profile <dir>  run the ingest processes with --cpu-prof into <dir> (where the server's time goes)
  --no-wrk         skip the wrk reference (it is skipped with a message when wrk is not installed)
  --out <file>     write the results as JSON there
  --smoke          a smoke run: ~2,000 events, 20 customers, 2 and 4 clients (seconds; CI)
  --help           show this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LUA = path.join(root, 'bench/wrk/ingest.lua');
const SERVERS = {
  // the ingest API alone (services/ingest): the HTTP path and nothing else
  ingest: { main: path.join(root, 'services/ingest/dist/main.js'), args: [] as string[] },
  // the whole ledger (`crm-ledger start`): the projector and query API share the CPU with ingest
  ledger: {
    main: path.join(root, 'services/cli/dist/main.js'),
    args: ['start', '--port', '0', '--log-level', 'warn'],
  },
};
type ServerKind = keyof typeof SERVERS;
const now = () => process.hrtime.bigint();
const ms = (ns: bigint) => Number(ns) / 1e6;
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Request {
  readonly customerId: string;
  readonly events: readonly RawEnvelope[];
  readonly body: string;
}

/** CPU seconds of a process: all threads, and its main thread (tid = pid) apart (Linux /proc; NaN elsewhere). */
function processCpu(pid: number): { all: number; main: number } {
  const ticks = (file: string) => {
    const stat = readFileSync(file, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  try {
    return { all: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return { all: Number.NaN, main: Number.NaN };
  }
}

interface Server {
  readonly url: string;
  readonly key: string;
  readonly pid: number;
  readonly stop: () => Promise<void>;
}

let nodeArgs: string[] = [];

async function startServer(kind: ServerKind, dataDir: string): Promise<Server> {
  const server = SERVERS[kind];
  const child = track(
    spawn(process.execPath, [...nodeArgs, server.main, ...server.args], {
      env: {
        ...process.env,
        CRM_LEDGER_DATA_DIR: dataDir,
        CRM_LEDGER_PORT: '0',
        CRM_LEDGER_LOG_LEVEL: 'info',
        CRM_LEDGER_SQLITE_SYNCHRONOUS: 'full',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const stop = () =>
    new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
    });
  const unregister = onCleanUp(stop);
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /listening on (http:\/\/[^\s;"]+)/.exec(l);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
  });
  const key = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
  return {
    url,
    key,
    pid: child.pid!,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

interface RunResult {
  readonly eventsPerSecond: number;
  readonly seconds: number;
  readonly requestLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** CPU seconds per 1,000 events: the ingest process (all threads, main thread), and the clients (this process). */
  readonly cpuMsPerKiloEvent?: {
    readonly server: number;
    readonly serverMainThread: number;
    readonly clients: number | null;
  };
  /** Bytes written to disk per event by the process that appends (the ingest process, or this one for direct). */
  readonly writtenBytesPerEvent: number | null;
}

/** Each client's requests, in order: the customers of client c are those at indexes c, c + C, c + 2C, ... */
function assign(customers: readonly Request[][], clients: number): Request[][] {
  const out: Request[][] = Array.from({ length: clients }, () => []);
  customers.forEach((reqs, i) => out[i % clients]!.push(...reqs));
  return out;
}

function summarise(latencies: number[], events: number, seconds: number) {
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: Math.round(events / seconds),
    seconds: round(seconds, 2),
    requestLatencyMs: {
      p50: round(pct(latencies, 0.5)),
      p99: round(pct(latencies, 0.99)),
      max: round(latencies.at(-1) ?? 0),
    },
  };
}

async function runDirect(perClient: Request[][], events: number, dir: string): Promise<RunResult> {
  const io0 = readIo();
  const store = openSqliteEventStore({ file: path.join(dir, 'direct.sqlite'), synchronous: 'full' });
  const closeStore = onCleanUp(() => store.close());
  const latencies: number[] = [];
  const t0 = now();
  await Promise.all(
    perClient.map(async (requests) => {
      for (const r of requests) {
        const r0 = now();
        const o = await appendCustomerEvents(store, r.customerId, r.events);
        latencies.push(ms(now() - r0));
        if (o.status !== 'appended') throw new Error(`direct append of ${r.customerId}: ${o.status}`);
      }
    }),
  );
  const seconds = ms(now() - t0) / 1000;
  const head = await store.headPosition();
  closeStore();
  await store.close();
  const io = ioSince(io0);
  if (head !== events) throw new Error(`direct: head ${head} != ${events} events`);
  return {
    ...summarise(latencies, events, seconds),
    writtenBytesPerEvent: io && Math.round(io.writeBytes / events),
  };
}

async function headOf(dir: string): Promise<number> {
  const check = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), writer: 'inline' });
  try {
    return await check.headPosition();
  } finally {
    await check.close();
  }
}

async function runHttp(
  kind: ServerKind,
  perClient: Request[][],
  events: number,
  dir: string,
): Promise<RunResult> {
  mkdirSync(dir);
  const server = await startServer(kind, dir);
  const io0 = readIo(server.pid);
  const s0 = processCpu(server.pid);
  const c0 = cpuSeconds();
  const latencies: number[] = [];
  const t0 = now();
  await Promise.all(
    perClient.map(async (requests) => {
      for (const r of requests) {
        const r0 = now();
        const res = await fetch(`${server.url}/v1/events/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
          body: r.body,
        });
        const text = await res.text();
        latencies.push(ms(now() - r0));
        if (res.status !== 201)
          throw new Error(`HTTP ${res.status} for ${r.customerId}: ${text.slice(0, 300)}`);
      }
    }),
  );
  const seconds = ms(now() - t0) / 1000;
  const clients = cpuSeconds() - c0;
  const s1 = processCpu(server.pid);
  const io = ioSince(io0, readIo(server.pid));
  await server.stop();
  const head = await headOf(dir);
  if (head !== events) throw new Error(`http: head ${head} != ${events} events`);
  return {
    ...summarise(latencies, events, seconds),
    cpuMsPerKiloEvent: {
      server: round(((s1.all - s0.all) * 1e6) / events, 2),
      serverMainThread: round(((s1.main - s0.main) * 1e6) / events, 2),
      clients: round((clients * 1e6) / events, 2),
    },
    writtenBytesPerEvent: io && Math.round(io.writeBytes / events),
  };
}

async function runWrk(
  kind: ServerKind,
  perClient: Request[][],
  events: number,
  dir: string,
): Promise<RunResult & { readonly requests: number }> {
  mkdirSync(dir);
  const bodies = path.join(dir, 'bodies');
  mkdirSync(bodies);
  perClient.forEach((requests, k) =>
    writeFileSync(
      path.join(bodies, `bodies-${k}.txt`),
      requests.map((r) => `${r.events.length} ${r.body}\n`).join(''),
    ),
  );
  const data = path.join(dir, 'data');
  mkdirSync(data);
  const server = await startServer(kind, data);
  const io0 = readIo(server.pid);
  const s0 = processCpu(server.pid);
  const c = String(perClient.length);
  const t0 = now();
  const wrk: ChildProcess = track(
    spawn(
      'wrk',
      ['-t', c, '-c', c, '-d', '3600s', '--timeout', '120s', '-s', LUA, server.url, '--', bodies, server.key],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  let doneThreads = 0;
  let stderr = '';
  let stopped = false;
  let seconds = 0;
  createInterface({ input: wrk.stderr! }).on('line', (l) => {
    if (l.includes('crm-ledger-wrk-thread-done')) {
      doneThreads++;
      if (doneThreads === perClient.length && !stopped) {
        stopped = true;
        seconds = ms(now() - t0) / 1000;
        wrk.kill('SIGINT');
      }
    } else stderr += `${l}\n`;
  });
  let stdout = '';
  wrk.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  const code = await new Promise<number | null>((r) => wrk.once('exit', (x) => r(x)));
  const s1 = processCpu(server.pid);
  const io = ioSince(io0, readIo(server.pid));
  await server.stop();
  const line = /CRM_LEDGER_WRK (\{.*\})/.exec(stdout)?.[1];
  if (line === undefined) throw new Error(`wrk ended with ${code} without a result:\n${stdout}\n${stderr}`);
  const w = JSON.parse(line) as {
    requests: number;
    answered: number;
    events: number;
    otherStatus: number;
    p50Us: number;
    p99Us: number;
    maxUs: number;
    errors: number;
  };
  if (w.events !== events || w.otherStatus !== 0)
    throw new Error(
      `wrk: ${w.events} of ${events} events acknowledged, ${w.otherStatus} other answers\n${stderr}`,
    );
  const head = await headOf(data);
  if (head !== events) throw new Error(`wrk: head ${head} != ${events} events`);
  return {
    eventsPerSecond: Math.round(events / seconds),
    seconds: round(seconds, 2),
    requests: w.answered,
    requestLatencyMs: { p50: round(w.p50Us / 1000), p99: round(w.p99Us / 1000), max: round(w.maxUs / 1000) },
    cpuMsPerKiloEvent: {
      server: round(((s1.all - s0.all) * 1e6) / events, 2),
      serverMainThread: round(((s1.main - s0.main) * 1e6) / events, 2),
      clients: null,
    },
    writtenBytesPerEvent: io && Math.round(io.writeBytes / events),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      customers: { type: 'string' },
      batch: { type: 'string', default: '100' },
      clients: { type: 'string', default: '4,16,64' },
      seed: { type: 'string', default: '42' },
      server: { type: 'string', default: 'ingest' },
      'no-wrk': { type: 'boolean', default: false },
      profile: { type: 'string' },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.smoke) Object.assign(values, { events: '2000', customers: '20', clients: '2,4' });
  const targetEvents = Number(values.events);
  const customers = Number(values.customers ?? Math.max(1, Math.round(targetEvents / 100)));
  const batchSize = Number(values.batch);
  const clientCounts = values.clients.split(',').map(Number);
  for (const [flag, v] of [
    ['--events', targetEvents],
    ['--customers', customers],
    ['--batch', batchSize],
    ...clientCounts.map((c) => ['--clients', c] as const),
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
  const serverKind = values.server;
  if (values.profile !== undefined) nodeArgs = ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)];
  if (serverKind !== 'ingest' && serverKind !== 'ledger') throw new Error('--server: ingest or ledger');
  const wrkThere = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  const withWrk = !values['no-wrk'] && wrkThere;
  if (!values['no-wrk'] && !wrkThere)
    process.stdout.write('wrk is not installed (apt-get install wrk): the wrk reference is skipped\n');

  // Each customer's requests: its events in order, in chunks of at most --batch.
  const perCustomer: Request[][] = [];
  let events = 0;
  for (const h of generateHistory({ seed: Number(values.seed), customers, targetEvents })) {
    const reqs: Request[] = [];
    for (let i = 0; i < h.events.length; i += batchSize) {
      const chunk = h.events.slice(i, i + batchSize);
      reqs.push({ customerId: h.customerId, events: chunk, body: JSON.stringify({ events: chunk }) });
    }
    perCustomer.push(reqs);
    events += h.events.length;
  }
  const requests = perCustomer.reduce((n, r) => n + r.length, 0);
  const dir = tempDir('crm-ledger-bench-http-');
  const runs: Record<string, unknown>[] = [];
  const startedAt = new Date().toISOString();
  const loadBefore = machine().loadavg;
  for (const clients of clientCounts) {
    const perClient = assign(perCustomer, clients);
    const load0 = machine().loadavg[0];
    const direct = await runDirect(perClient, events, tempDir('crm-ledger-bench-direct-'));
    const http = await runHttp(serverKind, perClient, events, path.join(dir, `http-${clients}`));
    const wrk = withWrk
      ? await runWrk(serverKind, perClient, events, path.join(dir, `wrk-${clients}`))
      : null;
    const run = {
      clients,
      loadAverage1: { before: load0, after: machine().loadavg[0] },
      direct,
      http,
      wrk,
      ratio: round(http.eventsPerSecond / direct.eventsPerSecond, 2),
      wrkRatio: wrk === null ? null : round(wrk.eventsPerSecond / direct.eventsPerSecond, 2),
    };
    runs.push(run);
    process.stdout.write(
      `${clients} clients: direct ${direct.eventsPerSecond} ev/s (p50/p99 ${direct.requestLatencyMs.p50}/${direct.requestLatencyMs.p99} ms); ` +
        `http ${http.eventsPerSecond} ev/s = ${run.ratio}x direct (p50/p99 ${http.requestLatencyMs.p50}/${http.requestLatencyMs.p99} ms; ` +
        `server CPU ${http.cpuMsPerKiloEvent?.server} ms per 1k events, main thread ${http.cpuMsPerKiloEvent?.serverMainThread}, clients ${http.cpuMsPerKiloEvent?.clients}); ` +
        (wrk === null
          ? 'wrk skipped'
          : `wrk ${wrk.eventsPerSecond} ev/s = ${run.wrkRatio}x direct (p50/p99 ${wrk.requestLatencyMs.p50}/${wrk.requestLatencyMs.p99} ms; server CPU ${wrk.cpuMsPerKiloEvent?.server}, main thread ${wrk.cpuMsPerKiloEvent?.serverMainThread})`) +
        `; written to disk ${http.writtenBytesPerEvent ?? '?'} B/event (direct ${direct.writtenBytesPerEvent ?? '?'}); load ${run.loadAverage1.before} -> ${run.loadAverage1.after}\n`,
    );
  }
  const result = {
    benchmark: 'ingest-http',
    date: startedAt,
    command: `node bench/dist/ingest-http.js ${process.argv.slice(2).join(' ')}`,
    machine: { ...machine(), loadavgBefore: loadBefore },
    events,
    customers,
    batchSize,
    requests,
    server: serverKind,
    synchronous: 'full',
    meanBodyKiB: round(perCustomer.flat().reduce((s, r) => s + r.body.length, 0) / requests / 1024),
    ordering:
      'customer k is sent by client k mod C, its events in order, one request at a time per client; customers concurrent across clients',
    references: {
      direct:
        'the same clients and requests appended in this process (appendCustomerEvents, what the HTTP handler calls)',
      wrk: withWrk
        ? 'Debian wrk 4.1 (bench/wrk/ingest.lua): one connection per thread, the same requests per client in the same order'
        : null,
    },
    runs,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (values.out !== undefined) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
  }
}

runMain(main);
