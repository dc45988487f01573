/**
 * Cost of one very long customer stream, over HTTP on the real `crm-ledger start` process:
 * - the customer 360 (live) and `?asOf=` (time travel) p50/p99 for a customer with `--events` events and for one
 *   with 100;
 * - `/health` latency while `--clients` clients hammer the heaviest endpoint (`?asOf=` of the long stream) with one
 *   read key, with the default concurrency limits (4 per key, 16 in all): the excess is answered 429 at once.
 *
 * The raw reference, measured in the same run on the same file: the plain SQL read of the same stream's rows
 * (`SELECT body FROM events WHERE stream_name = ? ORDER BY revision`, better-sqlite3, no HTTP) with and without
 * `JSON.parse` of each body: the least any fold of the whole stream must do. `/health` idle is the reference of
 * `/health` under load.
 *
 *   node bench/dist/heavy-customer.js --events 1000000 --requests 200 --asof-requests 5 --clients 32 --seconds 10
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { onCleanUp, runMain, tempDir, track } from './lib/cleanup.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(root, 'services/cli/dist/main.js');

const HELP = `Usage: node bench/dist/heavy-customer.js [options]

Options:
  --events <n>          events of the long customer stream (default 1000000)
  --requests <n>        live requests per customer (default 200)
  --asof-requests <n>   ?asOf= requests of the long stream (default 5)
  --clients <n>         clients hammering ?asOf= of the long stream (default 32)
  --seconds <n>         seconds of hammering (default 10)
  --smoke               a smoke run: 300 events, 5 requests, 2 as-of requests, 4 clients, 1 s, no result file (CI)
  --help`;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    'asof-requests': { type: 'string', default: '5' },
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    smoke: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.smoke)
  Object.assign(values, { events: '300', requests: '5', 'asof-requests': '2', clients: '4', seconds: '1' });
const EVENTS = Number(values.events);
const REQUESTS = Number(values.requests);
const ASOF_REQUESTS = Number(values['asof-requests']);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN) * 100) / 100;
};
const summary = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) });

const day = (i: number) => new Date(Date.UTC(2020, 0, 1) + Math.floor(i / 500) * 3_600_000).toISOString();
const event = (customerId: string, i: number) =>
  i === 0
    ? {
        eventId: randomUUID(),
        type: 'CustomerRegistered',
        schemaVersion: 1,
        customerId,
        occurredAt: day(0),
        source: 'bench',
        data: { segment: 'B2C', acquisitionChannel: 'direct' },
      }
    : {
        eventId: randomUUID(),
        type: 'PurchaseMade',
        schemaVersion: 1,
        customerId,
        occurredAt: day(i),
        source: 'bench',
        data: { orderId: `o-${i}`, amount: { amountMinor: 100 + (i % 900), currency: 'EUR' } },
      };

async function fill(file: string): Promise<number> {
  const store = openSqliteEventStore({ file, synchronous: 'normal' });
  const t0 = performance.now();
  for (const [customer, n] of [
    ['heavy', EVENTS],
    ['light', 100],
  ] as const) {
    for (let i = 0; i < n; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - i) }, (_, k) => event(customer, i + k));
      const r = await store.append(`customer-${customer}`, batch);
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
    }
  }
  await store.close();
  return (performance.now() - t0) / 1000;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The raw limit of reading a stream, on the same file as the server (WAL: a second reader beside it): the rows
 * by SQL alone, and the rows with each body parsed, `ASOF_REQUESTS` times for the long stream and `REQUESTS`
 * times for the short one (as many as the `?asOf=` series).
 */
function rawReads(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare<[string], { body: string }>(
      'SELECT body FROM events WHERE stream_name = ? ORDER BY revision',
    );
    const measure = (stream: string, n: number) => {
      const read: number[] = [];
      const readAndParse: number[] = [];
      let count = 0;
      for (let i = 0; i < n; i++) {
        let t0 = performance.now();
        count = rows.all(stream).length;
        read.push(performance.now() - t0);
        t0 = performance.now();
        let parsed = 0;
        for (const r of rows.iterate(stream)) parsed += (JSON.parse(r.body) as unknown) === null ? 0 : 1;
        readAndParse.push(performance.now() - t0);
        if (parsed !== count) throw new Error(`${stream}: parsed ${parsed} of ${count} rows`);
      }
      return { rows: count, read: summary(read), readAndParse: summary(readAndParse) };
    };
    return { heavy: measure('customer-heavy', ASOF_REQUESTS), light: measure('customer-light', REQUESTS) };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const dir = tempDir('crm-bench-heavy-');
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const fillSeconds = await fill(path.join(dataDir, 'ledger.sqlite'));
  process.stderr.write(`filled ${EVENTS + 100} events in ${fillSeconds.toFixed(1)} s\n`);
  const env = { ...process.env, CRM_LEDGER_RATE_LIMIT_MAX: '0', CRM_LEDGER_LOG_LEVEL: 'warn' };
  const key = execFileSync(
    process.execPath,
    [CLI, 'keys', 'create', '--name', 'bench', '--scopes', 'read', '--data-dir', dataDir],
    {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ).trim();
  const child = track(
    spawn(process.execPath, [CLI, 'start', '--port', '0', '--data-dir', dataDir], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  // Stopped gracefully (SIGTERM, then waited for) on any end; track() SIGKILLs it as a last resort.
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const forget = onCleanUp(stop);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`start exited ${code}`)));
      createInterface({ input: child.stdout }).on('line', (l) => {
        const m = /listening on (http:\/\/\S+)/.exec(l);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
    });
    /** A GET; a connection the server closed or reset counts as status 0 (a result, not a crash of the bench). */
    const get = async (p: string) => {
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - t0 };
      } catch {
        return { status: 0, ms: performance.now() - t0 };
      }
    };
    // wait for the projector to reach the end of the log: the light customer's events come last
    const t0 = performance.now();
    for (;;) {
      const r = await fetch(`${url}/v1/customers/light`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await r.json()) as { value?: { customer?: unknown } };
      if (r.status === 200 && body.value?.customer != null) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const projectedSeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`projected in ${projectedSeconds.toFixed(1)} s\n`);
    const series = async (p: string, n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await get(p);
        if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
        ms.push(r.ms);
      }
      return summary(ms);
    };
    const asOf = '?asOf=2030-01-01T00:00:00Z';
    // the live series alternate (heavy, light, heavy, ...): whatever else the process does meanwhile (the CLV fit
    // and the notary after start-up) weighs on both alike
    const alternating = async (paths: readonly string[], n: number) => {
      const ms = paths.map((): number[] => []);
      for (let i = 0; i < n; i++)
        for (const [j, p] of paths.entries()) {
          const r = await get(p);
          if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
          ms[j]!.push(r.ms);
        }
      return ms.map(summary);
    };
    const [liveHeavy, liveLight] = await alternating(
      ['/v1/customers/heavy', '/v1/customers/light'],
      REQUESTS,
    );
    const live = { heavy: liveHeavy!, light: liveLight! };
    process.stderr.write(`live ${JSON.stringify(live)}\n`);
    const timeTravel = {
      heavy: await series(`/v1/customers/heavy${asOf}`, ASOF_REQUESTS),
      light: await series(`/v1/customers/light${asOf}`, REQUESTS),
    };
    process.stderr.write(`asOf ${JSON.stringify(timeTravel)}\n`);
    const raw = rawReads(path.join(dataDir, 'ledger.sqlite'));
    process.stderr.write(`raw ${JSON.stringify(raw)}\n`);

    // `/health` is probed on a connection of its own (as a load balancer's check would), not through the pool the
    // hammering clients share: a probe measures the server, not a wait for a free client connection
    const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const probe = () =>
      new Promise<{ status: number; ms: number }>((resolve) => {
        const t0 = performance.now();
        http
          .get(`${url}/health`, { agent: probeAgent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
          })
          .on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
      });
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push((await probe()).ms);
    // hammer: CLIENTS loops on the heaviest endpoint; /health sampled every 100 ms meanwhile
    const statuses = new Map<number, number>();
    const end = Date.now() + SECONDS * 1000;
    const loops = Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < end) {
        const r = await get(`/v1/customers/heavy${asOf}`);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 429 || r.status === 0) await new Promise((res) => setTimeout(res, 50));
      }
    });
    const health: number[] = [];
    const healthStatuses = new Map<number, number>();
    while (Date.now() < end) {
      const r = await probe();
      health.push(r.ms);
      healthStatuses.set(r.status, (healthStatuses.get(r.status) ?? 0) + 1);
      await new Promise((res) => setTimeout(res, 100));
    }
    await Promise.all(loops);
    probeAgent.destroy();
    const result = {
      benchmark: 'heavy-customer',
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavg: loadavg(), node: process.version },
      events: EVENTS,
      fillSeconds,
      projectedSeconds,
      liveMs: live,
      asOfMs: timeTravel,
      rawMs: raw,
      ratios: {
        liveHeavyOverLightP99: round2(live.heavy.p99 / live.light.p99),
        asOfHeavyOverLightP99: round2(timeTravel.heavy.p99 / timeTravel.light.p99),
        asOfHeavyOverRawReadAndParseP50: round2(timeTravel.heavy.p50 / raw.heavy.readAndParse.p50),
        asOfLightOverRawReadAndParseP50: round2(timeTravel.light.p50 / raw.light.readAndParse.p50),
      },
      health: {
        idleMs: summary(idle),
        underLoadMs: summary(health),
        underLoadSamplesMs: health.map(round2),
        clients: CLIENTS,
        seconds: SECONDS,
        healthAnswers: Object.fromEntries(healthStatuses),
        // status 0: the connection failed (closed or reset by the server) before an answer
        heavyAnswers: Object.fromEntries(statuses),
      },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (values.smoke) return; // a smoke run writes nothing outside its temporary directory
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(
      path.join(root, 'bench/results', `heavy-customer-${result.at.slice(0, 16).replace(/[:T]/g, '-')}.json`),
      JSON.stringify(result, null, 2) + '\n',
    );
  } finally {
    forget();
    await stop();
  }
}

runMain(main);
