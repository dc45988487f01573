/**
 * Kafka-mode catch-up benchmark (issue 17): a ledger of N synthetic events is relayed once (the real `crm-relay`
 * process) into a 12-partition `single`-layout topic on a broker started from infra/kafka; then for k = 1, 2, 3
 * real `crm-ledger-projector` processes (CRM_LEDGER_PROJECTOR_SOURCE=kafka) in a fresh consumer group build every
 * view into a fresh PostgreSQL schema, timed from their spawn until every partition's stored next offset
 * (`_partition_offsets`) reaches the topic's end. CPU: /proc/<pid>/stat of each projector process, and of the
 * PostgreSQL backends serving them (matched by their client ports). The raw limit: the final rows of k = 1 written
 * into fresh tables of the same DDL by multi-row INSERT and COPY (bench/src/lib/pg.ts, as pg-catchup does), in
 * the same run. Every k's tables must equal k = 1's (row count + server-side hash per table) or the bench exits 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createKafka, silentLogger } from '@crm-ledger/kafka';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { ensureProjections } from '@crm-ledger/projector';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { onCleanUp, runMain, tempDir, track } from './lib/cleanup.js';
import { machine } from './lib/io.js';
import { startBroker } from './lib/kafka-broker.js';
import {
  backendsOf,
  CLK_TCK,
  client,
  digest,
  dumpRows,
  load,
  measure,
  prepare,
  procTicks,
  qi,
  r2,
  rawCopy,
  rawInsert,
  type Section,
} from './lib/pg.js';

const HELP = `Usage: node bench/dist/kafka-catchup.js [options]

Catch-up of the Kafka consumer-group projector (CRM_LEDGER_PROJECTOR_SOURCE=kafka) into PostgreSQL with 1, 2
and 3 crm-ledger-projector processes, from a 12-partition single-layout topic the relay filled once, against
the raw limit (multi-row INSERT and COPY of the same final rows) measured in the same run.

Options:
  --events <n>          events (default 200000)
  --customers <n>       customers (default events / 100)
  --seed <n>            generator seed (default 42)
  --partitions <n>      partitions of the topic (default 12)
  --instances <list>    instance counts, comma-separated (default 1,2,3; the first is the reference rows)
  --insert-rows <n>     rows per raw INSERT statement (default 1000)
  --raw-tx <n>          rows per raw transaction, INSERT and COPY (default 50000)
  --postgres <url>      PostgreSQL (default $CRM_LEDGER_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test)
  --cache-dir <dir>     where prepared event stores are kept (default $TMPDIR/crm-ledger-bench)
  --out <file>          write the results as JSON there
  --smoke               a smoke run: 3,000 events, 30 customers, instances 1,2, a throw-away cache (CI)
  --help
`;

const here = path.dirname(fileURLToPath(import.meta.url));
const PROJECTOR = path.resolve(here, '../../services/projector/dist/main.js');
const RELAY = path.resolve(here, '../../services/relay/dist/main.js');
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A service process, tracked for clean-up, its output kept (the tail) for an error message. */
function startService(file: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = track(
    spawn(process.execPath, [file], {
      env: { ...process.env, CRM_LEDGER_PORT: '0', CRM_LEDGER_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let text = '';
  const keep = (b: Buffer): void => void (text = (text + b.toString()).slice(-8_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => text };
}

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};

interface Run {
  readonly instances: number;
  readonly section: Section;
  /** From spawn until the first batch of any partition was stored (start-up and the group's first join). */
  readonly firstBatchSeconds: number;
  /**
   * Node CPU µs per event from the first stored batch to the end (the CPU and the events after that moment):
   * the steady per-event cost, without the processes' start-up (module loading, opening the stores) and join.
   */
  readonly nodeMicrosPerEventAfterFirstBatch: number;
  readonly perProcessCpuSeconds: number[];
  readonly sameRowsAsFirst: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      events: { type: 'string', default: '200000' },
      customers: { type: 'string' },
      seed: { type: 'string', default: '42' },
      partitions: { type: 'string', default: '12' },
      instances: { type: 'string', default: '1,2,3' },
      'insert-rows': { type: 'string', default: '1000' },
      'raw-tx': { type: 'string', default: '50000' },
      postgres: {
        type: 'string',
        default: process.env['CRM_LEDGER_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
      },
      'cache-dir': { type: 'string', default: path.join(tmpdir(), 'crm-ledger-bench') },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.smoke)
    Object.assign(values, {
      events: '3000',
      customers: '30',
      instances: '1,2',
      'cache-dir': tempDir('crm-ledger-bench-cache-'),
    });
  const events = Number(values.events);
  const customers = values.customers === undefined ? Math.round(events / 100) : Number(values.customers);
  const seed = Number(values.seed);
  const partitions = Number(values.partitions);
  const insertRows = Number(values['insert-rows']);
  const rawTx = Number(values['raw-tx']);
  const instanceCounts = values.instances.split(',').map((s) => Number(s.trim()));
  for (const [flag, v] of [
    ['--events', events],
    ['--customers', customers],
    ['--seed', seed],
    ['--partitions', partitions],
    ['--insert-rows', insertRows],
    ['--raw-tx', rawTx],
    ...instanceCounts.map((k) => ['--instances', k] as const),
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer (list)`);
  const url = values.postgres;

  mkdirSync(values['cache-dir'], { recursive: true });
  const cached = path.join(values['cache-dir'], `events-seed${seed}-c${customers}-e${events}.sqlite`);
  await prepare(cached, seed, customers, events);
  // The services' data directory: a copy of the prepared ledger (the relay keeps its checkpoint there).
  const dataDir = tempDir('crm-bench-kafka-catchup-');
  copyFileSync(cached, path.join(dataDir, 'ledger.sqlite'));
  // The generator's target is approximate: the ledger's head is the number of events (one position per event).
  const ledger = openSqliteEventStore({ file: cached });
  const total = await ledger.headPosition();
  await ledger.close();

  const { broker, forget } = await startBroker(values.smoke ? '512m' : '1g', log);
  onCleanUp(async () => {
    await broker.stop();
    forget();
  });

  const id = `bench_kcatchup_${randomBytes(4).toString('hex')}`;
  const prefix = id.replaceAll('_', '-');
  const topic = `${prefix}.events`;
  const kafkaEnv = {
    CRM_LEDGER_DATA_DIR: dataDir,
    CRM_LEDGER_KAFKA_BROKERS: broker.brokers,
    CRM_LEDGER_KAFKA_TOPIC_PREFIX: prefix,
    CRM_LEDGER_KAFKA_TOPIC_LAYOUT: 'single',
    CRM_LEDGER_KAFKA_PARTITIONS: String(partitions),
  };
  const kafka = createKafka({
    brokers: broker.brokers.split(','),
    clientId: 'bench-kafka-catchup',
    logger: silentLogger,
  });
  const kadmin = kafka.admin();
  await kadmin.connect();
  onCleanUp(() => kadmin.disconnect());
  const ends = async (): Promise<Map<number, number>> => {
    try {
      const offs = await kadmin.fetchTopicOffsets(topic);
      return new Map(offs.map((o) => [o.partition, Number(o.high)]));
    } catch {
      return new Map(); // not created yet / leadership settling
    }
  };
  const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

  // 1. Relay the ledger once (not timed here: bench/src/relay.ts measures the relay).
  const relay = startService(RELAY, { ...kafkaEnv, CRM_LEDGER_LOG_LEVEL: 'info' });
  const relayStarted = performance.now();
  for (;;) {
    const end = await ends();
    if (end.size === partitions && sum(end) >= total) break;
    if (relay.child.exitCode !== null) throw new Error(`the relay ended:\n${relay.output()}`);
    if (performance.now() - relayStarted > 900_000)
      throw new Error(`the relay did not finish:\n${relay.output()}`);
    await sleep(500);
  }
  await stopChild(relay.child);
  const endOffsets = await ends();
  if (sum(endOffsets) !== total)
    throw new Error(`the topic holds ${sum(endOffsets)} messages, the ledger ${total} events`);
  log(
    `relayed ${total} events into ${partitions} partitions in ${r2((performance.now() - relayStarted) / 1000)} s`,
  );

  const schemas: string[] = [];
  const admin = client(url, `${id}-admin`);
  await admin.connect();
  const dropSchema = async (c: pg.Client, s: string): Promise<void> => {
    await c.query(`DROP SCHEMA IF EXISTS ${qi(s)} CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS ${qi(`${s}__rebuild`)} CASCADE`);
  };
  onCleanUp(async () => {
    const c = client(url, `${id}-cleanup`);
    await c.connect();
    try {
      await c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 || '-%' AND pid <> pg_backend_pid()",
        [id],
      );
      for (const s of schemas) await dropSchema(c, s);
    } finally {
      await c.end();
    }
  });
  const freshTables = async (s: string): Promise<void> => {
    schemas.push(s);
    const rm = await openPostgresReadModelStore({
      connectionString: url,
      schema: s,
      applicationName: `${id}-ddl`,
    });
    try {
      await ensureProjections(rm);
    } finally {
      await rm.close();
    }
  };
  const version = (await admin.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version']))
    .rows[0]!.v;
  process.stdout.write(
    `machine: ${JSON.stringify(machine())}; PostgreSQL ${version}\n${total} events (generator target ${events}), ${customers} customers, ${partitions} partitions, instances ${instanceCounts.join(',')}\n`,
  );

  // 2. For each k: a fresh schema and group, k projector processes, until every partition's stored offset is at its end.
  const runs: Run[] = [];
  let reference: Record<string, string> | undefined;
  let referenceSchema: string | undefined;
  for (const k of instanceCounts) {
    const schema = `${id}_k${k}`;
    const group = `${prefix}-k${k}`;
    const env = {
      ...kafkaEnv,
      CRM_LEDGER_READ_MODEL_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: url,
      CRM_LEDGER_POSTGRES_SCHEMA: schema,
      CRM_LEDGER_PROJECTOR_SOURCE: 'kafka',
      CRM_LEDGER_PROJECTOR_GROUP_ID: group,
      CRM_LEDGER_CLV_REFIT_HOURS: '0',
    };
    let procs: { child: ChildProcess; output: () => string }[] = [];
    // Stopped before the schemas are dropped (clean-ups run newest first): a running projector holds their locks.
    const forgetProcs = onCleanUp(async () => {
      for (const p of procs) await stopChild(p.child);
    });
    let firstBatch = 0;
    /** Node CPU seconds of the processes and events stored when the first batch was seen stored. */
    let atFirstBatch = { cpuSeconds: 0, events: 0 };
    const ticks = new Map<number, number>();
    const sampleProcs = (): void => {
      for (const p of procs) {
        const t = p.child.pid === undefined ? undefined : procTicks(p.child.pid);
        if (t !== undefined) ticks.set(p.child.pid!, t);
      }
    };
    const m = await measure(
      admin,
      (a: pg.Client) =>
        backendsOf(
          a,
          procs.map((p) => p.child.pid!).filter((x) => x !== undefined),
        ),
      total,
      async () => {
        const t0 = performance.now();
        procs = Array.from({ length: k }, () => startService(PROJECTOR, env));
        for (;;) {
          sampleProcs();
          const { rows } = await admin
            .query<{ partition: number; next_offset: string }>(
              `SELECT partition, next_offset::text FROM ${qi(schema)}._partition_offsets WHERE group_id = $1`,
              [group],
            )
            .catch(() => ({ rows: [] as { partition: number; next_offset: string }[] }));
          const stored = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
          if (rows.length > 0 && firstBatch === 0) {
            firstBatch = (performance.now() - t0) / 1000;
            atFirstBatch = {
              cpuSeconds: [...ticks.values()].reduce((a, b) => a + b, 0) / CLK_TCK,
              events: sum(stored),
            };
          }
          if ([...endOffsets].every(([p, end]) => end === 0 || stored.get(p) === end)) break;
          const dead = procs.find((p) => p.child.exitCode !== null);
          if (dead !== undefined) throw new Error(`a projector ended:\n${dead.output()}`);
          await sleep(100);
        }
        sampleProcs();
      },
      // the children's CPU, not this process's
      () => [...ticks.values()].reduce((a, b) => a + b, 0) / CLK_TCK,
    );
    for (const p of procs) await stopChild(p.child);
    forgetProcs();
    const rows = await digest(admin, schema);
    let same = true;
    if (reference === undefined) {
      reference = rows;
      referenceSchema = schema;
    } else same = JSON.stringify(rows) === JSON.stringify(reference);
    const run: Run = {
      instances: k,
      section: m.section,
      firstBatchSeconds: r2(firstBatch),
      nodeMicrosPerEventAfterFirstBatch: r2(
        ((m.section.cpu.nodeSeconds - atFirstBatch.cpuSeconds) * 1e6) /
          Math.max(1, total - atFirstBatch.events),
      ),
      perProcessCpuSeconds: [...ticks.values()].map((t) => r2(t / CLK_TCK)),
      sameRowsAsFirst: same,
    };
    runs.push(run);
    const s = m.section;
    process.stdout.write(
      `k=${k}: ${total} events in ${s.seconds} s (first batch stored after ${run.firstBatchSeconds} s), ${s.eventsPerSecond} events/s; ` +
        `CPU µs/event: node ${s.cpu.nodeMicrosPerEvent} (${run.nodeMicrosPerEventAfterFirstBatch} after the first batch; per process s: ${run.perProcessCpuSeconds.join(', ')}), PostgreSQL ` +
        `${s.cpu.postgresMicrosPerEvent} (${s.cpu.postgresBackends} backends); load ${s.loadAverage.after.join(' ')}; same rows as k=${instanceCounts[0]}: ${same}\n`,
    );
    if (schema !== referenceSchema) await dropSchema(admin, schema);
  }

  // 3. The raw limit: the final rows (of the first k), written by INSERT and by COPY into fresh tables.
  const tables = await dumpRows(url, referenceSchema!, `${id}-dump`);
  const totalRows = tables.reduce((a, t) => a + t.rows.length, 0);
  const raw: Record<'insert' | 'copy', Section> = {} as never;
  const sameRows: Record<string, boolean> = Object.fromEntries(
    runs.map((r) => [`k=${r.instances}`, r.sameRowsAsFirst]),
  );
  for (const kind of ['insert', 'copy'] as const) {
    const s = `${id}_raw_${kind}`;
    await freshTables(s);
    const c = client(url, `${id}-raw-${kind}`);
    await c.connect();
    const m = await measure(admin, `${id}-raw-${kind}`, total, () =>
      kind === 'insert' ? rawInsert(c, s, tables, insertRows, rawTx) : rawCopy(c, s, tables, rawTx),
    );
    await c.end();
    raw[kind] = m.section;
    sameRows[`raw ${kind}`] = JSON.stringify(await digest(admin, s)) === JSON.stringify(reference);
    process.stdout.write(
      `raw ${kind}: ${totalRows} rows (${total} events) in ${m.section.seconds} s, ${m.section.eventsPerSecond} events/s; ` +
        `CPU µs/event: node ${m.section.cpu.nodeMicrosPerEvent}, PostgreSQL ${m.section.cpu.postgresMicrosPerEvent}\n`,
    );
    await dropSchema(admin, s);
  }
  await dropSchema(admin, referenceSchema!);
  await admin.end();

  const limit = raw.copy.eventsPerSecond >= raw.insert.eventsPerSecond ? raw.copy : raw.insert;
  const base = runs[0]!.section.eventsPerSecond;
  const events_ = (r: Run): number => r.section.events;
  const scaling = runs.map((r) => ({
    instances: r.instances,
    eventsPerSecond: r.section.eventsPerSecond,
    speedUp: r2(r.section.eventsPerSecond / base),
    /** From the first stored batch to the end: without the processes' start-up and the group's first join. */
    afterFirstBatchEventsPerSecond: Math.round(
      events_(r) / Math.max(1e-9, r.section.seconds - r.firstBatchSeconds),
    ),
    toRawLimit: r2(r.section.eventsPerSecond / limit.eventsPerSecond),
    toInsert: r2(r.section.eventsPerSecond / raw.insert.eventsPerSecond),
    toCopy: r2(r.section.eventsPerSecond / raw.copy.eventsPerSecond),
    nodeMicrosPerEvent: r.section.cpu.nodeMicrosPerEvent,
    nodeMicrosPerEventAfterFirstBatch: r.nodeMicrosPerEventAfterFirstBatch,
    postgresMicrosPerEvent: r.section.cpu.postgresMicrosPerEvent,
    /** CPU seconds (node + backends) per wall second: 2 is all of this machine's cores. */
    coresBusy: r2((r.section.cpu.nodeSeconds + r.section.cpu.postgresBackendSeconds) / r.section.seconds),
  }));
  process.stdout.write(
    `\nSUMMARY kafka-catchup: ${scaling
      .map(
        (s) =>
          `k=${s.instances} ${s.eventsPerSecond} events/s (${s.afterFirstBatchEventsPerSecond} after the first batch; Node ${s.nodeMicrosPerEvent} µs/event, ${s.nodeMicrosPerEventAfterFirstBatch} after the first batch, PostgreSQL ${s.postgresMicrosPerEvent}; x${s.speedUp} vs k=1, ${s.toRawLimit}x the raw limit, ${s.coresBusy} cores busy)`,
      )
      .join(
        '; ',
      )}; raw INSERT ${raw.insert.eventsPerSecond}, COPY ${raw.copy.eventsPerSecond} events/s; same rows: ${JSON.stringify(sameRows)}\n`,
  );
  if (Object.values(sameRows).some((same) => !same)) {
    process.exitCode = 1;
    process.stderr.write('the tables differ from the first instance count: see "same rows" above\n');
  }
  if (values.out !== undefined) {
    const result = {
      benchmark: 'kafka-catchup',
      date: new Date().toISOString(),
      command: `node bench/dist/kafka-catchup.js ${process.argv.slice(2).join(' ')}`,
      machine: machine(),
      postgres: { version },
      loadAverage: load(),
      parameters: {
        events: total,
        targetEvents: events,
        customers,
        seed,
        partitions,
        instances: instanceCounts,
        insertRowsPerStatement: insertRows,
        rawRowsPerTransaction: rawTx,
      },
      rows: { final: totalRows, byTable: Object.fromEntries(tables.map((t) => [t.name, t.rows.length])) },
      runs,
      raw: {
        insert: raw.insert,
        copy: raw.copy,
        limit: limit === raw.copy ? 'copy' : 'insert',
        limitEventsPerSecond: limit.eventsPerSecond,
      },
      scaling,
      sameRows,
      cpuNote:
        'node: /proc/<pid>/stat of every crm-ledger-projector process from its spawn (start-up, group join and catch-up); postgres: /proc/<pid>/stat of the backends whose client port belongs to those processes, sampled every 200 ms; the raw rows: process.cpuUsage() of the bench and its one backend. The time runs from the spawn of the processes until every partition’s stored offset is at the topic’s end.',
    };
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`results written to ${values.out}\n`);
  }
}

runMain(main);
