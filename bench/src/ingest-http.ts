/**
 * HTTP ingest benchmark: the same synthetic events are written twice into fresh SQLite stores (synchronous
 * = full), once over HTTP on loopback (`POST /v1/events/batch`, batches of 500 events, several requests
 * in flight, the real ingest process: services/ingest, or `crm-ledger start` with --server ledger) and once straight into the store in this process
 * (same batches, same grouping: one append per customer of a batch, same concurrency). Reports events/s
 * of both, their ratio (target >= 0.3) and the latency per HTTP request (p50/p99).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RawEnvelope } from '@crm-ledger/events';
import { appendCustomerEvents, groupByCustomer } from '@crm-ledger/ingest-api';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { generateHistory } from '@crm-ledger/synthetic';

const HELP = `Usage: node bench/dist/ingest-http.js [options]

Options:
  --events <n>     target number of events (default 200000)
  --customers <n>  customers (default events / 100)
  --batch <n>      events per HTTP request (default 500)
  --inflight <n>   requests (and direct batches) in flight (default 4)
  --seed <n>       generator seed (default 42)
  --server <kind>  ingest: the ingest API alone (services/ingest, default);
                   ledger: the whole ledger (crm-ledger start, with projector and query API)
  --out <file>     write the results as JSON there
  --help           show this help
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
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

async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

async function startServer(
  kind: ServerKind,
  dataDir: string,
): Promise<{ url: string; key: string; stop: () => Promise<void> }> {
  const server = SERVERS[kind];
  const child = spawn(process.execPath, [server.main, ...server.args], {
    env: { ...process.env, CRM_LEDGER_DATA_DIR: dataDir, CRM_LEDGER_PORT: '0', CRM_LEDGER_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      customers: { type: 'string' },
      batch: { type: 'string', default: '500' },
      inflight: { type: 'string', default: '4' },
      seed: { type: 'string', default: '42' },
      server: { type: 'string', default: 'ingest' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const targetEvents = Number(values.events);
  const customers = Number(values.customers ?? Math.max(1, Math.round(targetEvents / 100)));
  const batchSize = Number(values.batch);
  const inflight = Number(values.inflight);
  const serverKind = values.server;
  if (serverKind !== 'ingest' && serverKind !== 'ledger') throw new Error('--server: ingest or ledger');

  const events: RawEnvelope[] = [];
  for (const h of generateHistory({ seed: Number(values.seed), customers, targetEvents }))
    events.push(...h.events);
  const batches: RawEnvelope[][] = [];
  for (let i = 0; i < events.length; i += batchSize) batches.push(events.slice(i, i + batchSize));
  const bodies = batches.map((b) => JSON.stringify({ events: b }));
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-bench-http-'));
  try {
    // 1. Direct: the store in this process, same batches and grouping as the HTTP handler.
    const store = openSqliteEventStore({ file: path.join(dir, 'direct.sqlite'), synchronous: 'full' });
    const d0 = now();
    await pool(batches, inflight, async (batch) => {
      for (const [customerId, group] of groupByCustomer(batch.map((event) => ({ event })))) {
        const o = await appendCustomerEvents(
          store,
          customerId,
          group.map((g) => g.event),
        );
        if (o.status !== 'appended') throw new Error(`direct append: ${o.status}`);
      }
    });
    const directSeconds = ms(now() - d0) / 1000;
    if ((await store.headPosition()) !== events.length) throw new Error('direct: head != events');
    await store.close();

    // 2. HTTP: the real `crm-ledger start` process on loopback.
    const httpDir = path.join(dir, 'http');
    mkdirSync(httpDir);
    const server = await startServer(serverKind, httpDir);
    const latencies: number[] = [];
    const h0 = now();
    await pool(bodies, inflight, async (body) => {
      const r0 = now();
      const res = await fetch(`${server.url}/v1/events/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      latencies.push(ms(now() - r0));
      if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
    });
    const httpSeconds = ms(now() - h0) / 1000;
    await server.stop();
    const check = openSqliteEventStore({ file: path.join(httpDir, 'ledger.sqlite') });
    const httpHead = await check.headPosition();
    await check.close();
    if (httpHead !== events.length) throw new Error(`http: head ${httpHead} != ${events.length} events`);

    latencies.sort((a, b) => a - b);
    const direct = Math.round(events.length / directSeconds);
    const http = Math.round(events.length / httpSeconds);
    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        loadavg: loadavg().map((l) => round(l, 2)),
        node: process.version,
      },
      events: events.length,
      customers,
      batchSize,
      requests: bodies.length,
      inflight,
      server: serverKind,
      meanBodyKiB: round(bodies.reduce((s, b) => s + b.length, 0) / bodies.length / 1024),
      direct: { eventsPerSecond: direct, seconds: round(directSeconds, 2) },
      http: {
        eventsPerSecond: http,
        seconds: round(httpSeconds, 2),
        requestLatencyMs: {
          p50: round(pct(latencies, 0.5)),
          p99: round(pct(latencies, 0.99)),
          max: round(latencies.at(-1) ?? 0),
        },
      },
      ratio: round(http / direct, 2),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (values.out !== undefined) {
      mkdirSync(path.dirname(values.out), { recursive: true });
      writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
