/**
 * What containing the 6.2.1 BatchAppend promise-bank bug costs (issue #22 item 3): the EventStoreDB adapter
 * appends with the client's single-call Append RPC (one gRPC call per append) instead of `appendToStream`
 * (every append of the process multiplexed on one BatchAppend stream, whose module-wide promise bank fails
 * written appends and throws an uncaught TypeError after a reconnect). Both paths run against the same
 * server, the fault server of `@crm-ledger/eventstoredb/testing` in a child process (no EventStoreDB
 * can run on these machines): what is measured is the *client-side and protocol* cost of each path
 * (HTTP/2 streams, framing, the client's bookkeeping), not a server's write path, which is the same for
 * both and dominates on a real cluster (fsync, replication to a quorum). Paths alternate, three rounds each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FaultServer, appendPaths } from '@crm-ledger/eventstoredb/testing';
import { forkTracked, onCleanUp, runMain } from './lib/cleanup.js';

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '3000' },
    inflight: { type: 'string', default: '1,16,64' },
    events: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    serve: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    `Usage: node bench/dist/esdb-append-path.js [--appends 3000] [--inflight 1,16,64] [--events 1] [--rounds 3] [--out file.json]
  --smoke   a smoke run: 40 appends, 1 and 4 in flight, 1 round (seconds; CI)`,
  );
  process.exit(0);
}

if (values.serve) {
  const server = await FaultServer.start();
  process.send?.({ port: server.port });
  process.on('disconnect', () => {
    server.stop();
    process.exit(0);
  });
} else {
  runMain(main);
}

async function main(): Promise<void> {
  if (values.smoke) Object.assign(values, { appends: '40', inflight: '1,4', rounds: '1' });
  const child = forkTracked(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code, signal) => reject(new Error(`fault server exited with ${code ?? signal}`)));
  });
  const paths = appendPaths(`esdb://127.0.0.1:${port}?tls=false`);
  const forget = onCleanUp(() => paths.close());
  const appends = Number(values.appends);
  const perAppend = Number(values.events);
  const rounds = Number(values.rounds);
  const results: { path: string; inflight: number; round: number; appendsPerSecond: number }[] = [];
  let streamNo = 0;
  const run = async (kind: 'batch' | 'unary', inflight: number): Promise<number> => {
    const append = paths[kind];
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (next < appends) {
          next += 1;
          await append(`bench-${streamNo++ % 1000}`, perAppend);
        }
      }),
    );
    return appends / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  await run('batch', 16); // warm-up of both paths and the server
  await run('unary', 16);
  for (const inflight of values.inflight.split(',').map(Number)) {
    for (let round = 1; round <= rounds; round++) {
      for (const kind of round % 2 === 1 ? (['batch', 'unary'] as const) : (['unary', 'batch'] as const)) {
        const rate = await run(kind, inflight);
        results.push({ path: kind, inflight, round, appendsPerSecond: Math.round(rate) });
      }
    }
  }
  forget();
  await paths.close();
  child.disconnect();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = values.inflight
    .split(',')
    .map(Number)
    .map((inflight) => {
      const of = (p: string) =>
        median(results.filter((r) => r.path === p && r.inflight === inflight).map((r) => r.appendsPerSecond));
      return {
        inflight,
        batchAppendsPerSecond: of('batch'),
        unaryAppendsPerSecond: of('unary'),
        unaryOverBatch: Number((of('unary') / of('batch')).toFixed(2)),
      };
    });
  console.table(summary);
  const report = {
    benchmark: 'esdb-append-path',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavg: loadavg() },
    appends,
    eventsPerAppend: perAppend,
    summary,
    results,
  };
  if (values.out !== undefined) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  }
}
