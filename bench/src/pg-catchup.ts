/**
 * PostgreSQL read-model benchmark (issue #17): catch-up of N events from the single-log event store (SQLite,
 * as the ledger writes it) into the PostgreSQL read models through the real projector (`Projector.catchUp`
 * on `PostgresReadModelStore`), and the single-log `replay` (blue/green rebuild) into PostgreSQL, each against
 * the raw limit measured in the same run: the same final rows (read back from the projector's tables) written
 * into the same tables (same DDL, same indexes, fresh schema) with no projection logic, by plain multi-row
 * INSERT and by COPY, through the `pg` driver directly.
 *
 * CPU: process.cpuUsage() of this process for each measured section, and the CPU of the PostgreSQL backends
 * serving it (every connection of a section carries its own application_name; their pids come from
 * pg_stat_activity, their CPU from /proc/<pid>/stat, sampled every 200 ms). The server's shared processes
 * (WAL writer, checkpointer) serve every database of the machine and are not counted.
 *
 * Preparing the event store (generation + appends) is not timed; the file is cached by seed and size (the
 * same file name as the replay bench's cache).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import type { ReadModelStore } from '@crm-ledger/core';
import { openPostgresReadModelStore, type PostgresReadModelStore } from '@crm-ledger/postgres';
import { ensureProjections, Projector, replay } from '@crm-ledger/projector';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { onCleanUp, runMain, tempDir } from './lib/cleanup.js';
import { machine } from './lib/io.js';
import {
  client,
  digest,
  dumpRows,
  measure,
  prepare,
  qi,
  r2,
  rawCopy,
  rawInsert,
  type Section,
} from './lib/pg.js';

const HELP = `Usage: node bench/dist/pg-catchup.js [options]

Catch-up of N events from the SQLite event store into the PostgreSQL read models through the projector, and
the single-log replay into PostgreSQL, each against the raw limit measured in the same run: the same final
rows written into the same tables by plain multi-row INSERT and by COPY (no projection logic).

Options:
  --events <n>          events (default 1000000)
  --customers <n>       customers (default events / 100)
  --seed <n>            generator seed (default 42)
  --batch <n>           events per projector transaction (default 10000, the projector's default)
  --replay-batch <n>    events per replay transaction (default 2000, the replay's default)
  --insert-rows <n>     rows per raw INSERT statement (default 1000)
  --raw-tx <n>          rows per raw transaction, INSERT and COPY (default 50000)
  --rounds <n>          raw measurements of each kind (default 2: after the catch-up and after the replay)
  --no-replay           skip the replay
  --postgres <url>      PostgreSQL (default $CRM_LEDGER_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test)
  --cache-dir <dir>     where prepared event stores are kept (default $TMPDIR/crm-ledger-bench)
  --out <file>          write the results as JSON there
  --smoke               a smoke run: 3,000 events, 30 customers, 1 raw round, a throw-away cache (CI)
  --help
`;

/** Wall time the projector spent in the read model's write path: `apply` (rows + checkpoint) and `find` (state loads). */
interface WritePath {
  applySeconds: number;
  applyCalls: number;
  findSeconds: number;
  findCalls: number;
}

/** The store, with the time spent in its `apply` and `find` added to `t` (everything else passed through). */
function timed(store: ReadModelStore, t: WritePath): ReadModelStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const f = value as (...args: unknown[]) => unknown;
      if (prop !== 'apply' && prop !== 'find') return f.bind(target);
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await f.apply(target, args);
        } finally {
          const s = (performance.now() - t0) / 1000;
          if (prop === 'apply') {
            t.applySeconds += s;
            t.applyCalls++;
          } else {
            t.findSeconds += s;
            t.findCalls++;
          }
        }
      };
    },
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      customers: { type: 'string' },
      seed: { type: 'string', default: '42' },
      batch: { type: 'string', default: '10000' },
      'replay-batch': { type: 'string', default: '2000' },
      'insert-rows': { type: 'string', default: '1000' },
      'raw-tx': { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '2' },
      'no-replay': { type: 'boolean', default: false },
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
      batch: '500',
      'replay-batch': '500',
      rounds: '1',
      'cache-dir': tempDir('crm-ledger-bench-cache-'),
    });
  const events = Number(values.events);
  const customers = values.customers === undefined ? Math.round(events / 100) : Number(values.customers);
  const seed = Number(values.seed);
  const batch = Number(values.batch);
  const replayBatch = Number(values['replay-batch']);
  const insertRows = Number(values['insert-rows']);
  const rawTx = Number(values['raw-tx']);
  const rounds = Number(values.rounds);
  for (const [flag, v] of [
    ['--events', events],
    ['--customers', customers],
    ['--seed', seed],
    ['--batch', batch],
    ['--replay-batch', replayBatch],
    ['--insert-rows', insertRows],
    ['--raw-tx', rawTx],
    ['--rounds', rounds],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
  const url = values.postgres;

  mkdirSync(values['cache-dir'], { recursive: true });
  const file = path.join(values['cache-dir'], `events-seed${seed}-c${customers}-e${events}.sqlite`);
  await prepare(file, seed, customers, events);

  // Every schema and connection of this run carries the run's id: clean-up drops and ends exactly those.
  const id = `bench_pg_catchup_${randomBytes(4).toString('hex')}`;
  const app = (what: string): string => `${id}-${what}`;
  const schemas: string[] = [];
  const admin = client(url, app('admin'));
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
  const schema = (what: string): string => {
    const s = `${id}_${what}`;
    schemas.push(s);
    return s;
  };
  const openStore = (s: string, name: string): Promise<PostgresReadModelStore> =>
    openPostgresReadModelStore({ connectionString: url, schema: s, applicationName: app(name), poolSize: 4 });
  /** Fresh tables of every view (the read model's own DDL), empty. */
  const freshTables = async (s: string): Promise<void> => {
    const rm = await openStore(s, 'ddl');
    try {
      await ensureProjections(rm);
    } finally {
      await rm.close();
    }
  };

  const version = (await admin.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version']))
    .rows[0]!.v;
  const settings = Object.fromEntries(
    (
      await admin.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size', 'wal_level', 'full_page_writes')",
      )
    ).rows.map((r) => [r.name, r.setting]),
  );
  process.stdout.write(
    `machine: ${JSON.stringify(machine())}; PostgreSQL ${version} ${JSON.stringify(settings)}\n` +
      `${events} events, ${customers} customers, projector batch ${batch}, replay batch ${replayBatch}\n`,
  );
  const store = openSqliteEventStore({ file, synchronous: 'normal' });
  onCleanUp(() => store.close());

  // 1. The projector's catch-up from an empty read model.
  const catchUpSchema = schema('projector');
  await freshTables(catchUpSchema);
  let rowsWritten = 0;
  let batches = 0;
  const rm = await openStore(catchUpSchema, 'projector');
  const writePath: WritePath = { applySeconds: 0, applyCalls: 0, findSeconds: 0, findCalls: 0 };
  const catchUp = await measure(
    admin,
    app('projector'),
    (n: number) => n,
    async () => {
      let n = 0;
      await new Projector({
        store,
        readModel: timed(rm, writePath),
        batchSize: batch,
        onBatch: (r) => {
          n += r.events;
          rowsWritten += r.rowsWritten;
          batches++;
        },
      }).catchUp();
      return n;
    },
  );
  await rm.close();
  const report = (label: string, s: Section): void => {
    process.stdout.write(
      `${label}: ${s.events} events in ${s.seconds} s, ${s.eventsPerSecond} events/s; CPU µs/event: node ` +
        `${s.cpu.nodeMicrosPerEvent}, PostgreSQL ${s.cpu.postgresMicrosPerEvent} (share ${s.cpu.postgresShare}, ` +
        `${s.cpu.postgresBackends} backends); load ${s.loadAverage.after.join(' ')}\n`,
    );
  };
  report('projector catch-up', catchUp.section);
  const writeSeconds = writePath.applySeconds + writePath.findSeconds;
  const writePathEventsPerSecond = Math.round(catchUp.section.events / writeSeconds);
  process.stdout.write(
    `  of which in the read model's write path: ${r2(writeSeconds)} s (apply ${r2(writePath.applySeconds)} s in ` +
      `${writePath.applyCalls} calls, state loads ${r2(writePath.findSeconds)} s in ${writePath.findCalls} calls): ` +
      `${writePathEventsPerSecond} events per write-path second\n`,
  );

  // The final rows, as the server's text, for the raw writers (not timed).
  const tables = await dumpRows(url, catchUpSchema);
  const totalRows = tables.reduce((s, t) => s + t.rows.length, 0);
  process.stdout.write(
    `final rows: ${totalRows} in ${tables.length} tables (projector wrote ${rowsWritten} row changes in ${batches} batches)\n`,
  );
  const expected = await digest(admin, catchUpSchema);

  const inserts: Section[] = [];
  const copies: Section[] = [];
  const sameRows: Record<string, boolean> = {};
  const rawRound = async (round: number): Promise<void> => {
    for (const kind of ['insert', 'copy'] as const) {
      const s = schema(`raw_${kind}_${round}`);
      await freshTables(s);
      const raw = client(url, app(`raw-${kind}-${round}`));
      await raw.connect();
      const m = await measure(admin, app(`raw-${kind}-${round}`), catchUp.section.events, () =>
        kind === 'insert' ? rawInsert(raw, s, tables, insertRows, rawTx) : rawCopy(raw, s, tables, rawTx),
      );
      await raw.end();
      (kind === 'insert' ? inserts : copies).push(m.section);
      report(`raw ${kind} (round ${round})`, m.section);
      sameRows[`raw ${kind} ${round}`] = JSON.stringify(await digest(admin, s)) === JSON.stringify(expected);
      await dropSchema(admin, s);
    }
  };
  await rawRound(1);

  // 2. The single-log replay (blue/green rebuild) into PostgreSQL, from an empty read model.
  let replaySection: Section | undefined;
  if (!values['no-replay']) {
    const replaySchema = schema('replay');
    await freshTables(replaySchema);
    const rrm = await openStore(replaySchema, 'replay');
    const m = await measure(
      admin,
      app('replay'),
      (r: { events: number }) => r.events,
      () => replay({ store, readModel: rrm, batchSize: replayBatch }),
    );
    await rrm.close();
    replaySection = m.section;
    report('replay', m.section);
    sameRows['replay'] = JSON.stringify(await digest(admin, replaySchema)) === JSON.stringify(expected);
    await dropSchema(admin, replaySchema);
  }
  for (let round = 2; round <= rounds; round++) await rawRound(round);
  await dropSchema(admin, catchUpSchema);
  await admin.end();

  const best = (xs: readonly Section[]): Section => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const insert = best(inserts);
  const copy = best(copies);
  const limit = copy.eventsPerSecond >= insert.eventsPerSecond ? copy : insert;
  const ratio = (s: Section, to: Section): number => r2(s.eventsPerSecond / to.eventsPerSecond);
  const ratios = {
    writePathToRawLimit: r2(writePathEventsPerSecond / limit.eventsPerSecond),
    writePathToInsert: r2(writePathEventsPerSecond / insert.eventsPerSecond),
    writePathToCopy: r2(writePathEventsPerSecond / copy.eventsPerSecond),
    projectorToRawLimit: ratio(catchUp.section, limit),
    projectorToInsert: ratio(catchUp.section, insert),
    projectorToCopy: ratio(catchUp.section, copy),
    ...(replaySection === undefined
      ? {}
      : {
          replayToRawLimit: ratio(replaySection, limit),
          replayToInsert: ratio(replaySection, insert),
          replayToCopy: ratio(replaySection, copy),
        }),
  };
  process.stdout.write(
    `\nraw limit (best of ${rounds}): INSERT ${insert.eventsPerSecond} events/s, COPY ${copy.eventsPerSecond} events/s\n` +
      `SUMMARY pg-catchup: write path ${writePathEventsPerSecond} events/s = ${ratios.writePathToRawLimit}x the raw limit ` +
      `(${ratios.writePathToInsert}x INSERT, ${ratios.writePathToCopy}x COPY); end to end: projector ${catchUp.section.eventsPerSecond} events/s = ${ratios.projectorToRawLimit}x the raw limit ` +
      `(${ratios.projectorToInsert}x INSERT, ${ratios.projectorToCopy}x COPY)` +
      (replaySection === undefined
        ? ''
        : `; replay ${replaySection.eventsPerSecond} events/s = ${ratios.replayToRawLimit}x (${ratios.replayToInsert}x INSERT, ${ratios.replayToCopy}x COPY)`) +
      `; same rows: ${JSON.stringify(sameRows)}\n`,
  );
  if (Object.values(sameRows).some((same) => !same)) {
    process.exitCode = 1;
    process.stderr.write('the tables differ from the projector catch-up: see "same rows" above\n');
  }
  if (values.out !== undefined) {
    const result = {
      benchmark: 'pg-catchup',
      date: new Date().toISOString(),
      command: `node bench/dist/pg-catchup.js ${process.argv.slice(2).join(' ')}`,
      machine: machine(),
      postgres: { version, settings },
      parameters: {
        events,
        customers,
        seed,
        batch,
        replayBatch,
        insertRowsPerStatement: insertRows,
        rawRowsPerTransaction: rawTx,
        rounds,
        log: 'one append per customer (as crm-ledger seed): the global log holds each customer’s events together',
      },
      rows: {
        final: totalRows,
        byTable: Object.fromEntries(tables.map((t) => [t.name, t.rows.length])),
        projectorRowChanges: rowsWritten,
        projectorBatches: batches,
      },
      projector: {
        ...catchUp.section,
        writePath: {
          what: "wall time inside the read model's apply (rows + checkpoint, one transaction per batch) and find (state loads), timed around the calls",
          seconds: r2(writeSeconds),
          applySeconds: r2(writePath.applySeconds),
          applyCalls: writePath.applyCalls,
          findSeconds: r2(writePath.findSeconds),
          findCalls: writePath.findCalls,
          eventsPerSecond: writePathEventsPerSecond,
        },
      },
      replay: replaySection ?? null,
      raw: {
        what: 'the final rows of the projector’s tables, read back as text, written into fresh tables of the same DDL by one pg client: multi-row INSERT ($n parameters) or COPY FROM STDIN (text format, encoded while sending); best of the rounds is the limit',
        insert: inserts,
        copy: copies,
        limit: limit === copy ? 'copy' : 'insert',
        limitEventsPerSecond: limit.eventsPerSecond,
      },
      ratios,
      sameRows,
      cpuNote:
        'node: process.cpuUsage() of the bench process (projector, SQLite reads, pg driver); postgres: /proc/<pid>/stat of the backends serving the section (pg_stat_activity by application_name), not the shared WAL writer/checkpointer',
    };
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`results written to ${values.out}\n`);
  }
}

runMain(main);
