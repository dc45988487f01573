/**
 * PostgreSQL measuring pieces shared by the read-model benchmarks (pg-catchup, kafka-catchup): the prepared
 * SQLite event store, CPU of processes (/proc/<pid>/stat) and of PostgreSQL backends, timed sections, the final
 * rows of a schema read back as text, their server-side digest, and the raw limit writers (multi-row INSERT and
 * COPY of the same rows into the same tables, no projection logic).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { customerStream } from '@crm-ledger/events';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';

export const load = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);
export const r2 = (v: number): number => Math.round(v * 100) / 100;

/** A text parser for every type: rows read back as the server's text. */
export const asText: pg.CustomTypesConfig = { getTypeParser: (() => (v: string) => v) as never };

export async function prepare(file: string, seed: number, customers: number, events: number): Promise<void> {
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
  }
  await store.close();
  renameSync(tmp, file);
  process.stderr.write(`prepared ${n} events in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

export const CLK_TCK = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number(r.stdout?.trim());
  return Number.isFinite(v) && v > 0 ? v : 100;
})();

/** CPU ticks (user + system) of a process from /proc/<pid>/stat, or undefined when gone/unreadable. */
export function procTicks(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/**
 * CPU of the PostgreSQL backends whose application_name is `app`: all of them are new (one name per measured
 * section), so each counts from 0; sampled every 200 ms so a backend that ends is counted up to its last sample.
 */
export class BackendCpu {
  private readonly ticks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly admin: pg.Client,
    /** The backends' application_name, or a query of their pids (e.g. by the client ports of other processes). */
    private readonly app: string | ((admin: pg.Client) => Promise<number[]>),
  ) {}

  private async sample(): Promise<void> {
    const pids =
      typeof this.app === 'string'
        ? (
            await this.admin.query<{ pid: number }>(
              'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
              [this.app],
            )
          ).rows.map((r) => r.pid)
        : await this.app(this.admin);
    for (const pid of pids) {
      const t = procTicks(pid);
      if (t !== undefined) this.ticks.set(pid, Math.max(t, this.ticks.get(pid) ?? 0));
    }
    for (const pid of this.ticks.keys()) {
      const t = procTicks(pid);
      if (t !== undefined) this.ticks.set(pid, Math.max(t, this.ticks.get(pid) ?? 0));
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, 200);
  }

  /** Takes a last sample (call it before the section's connections close); returns CPU seconds and backends. */
  async stop(): Promise<{ seconds: number; backends: number }> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    let sum = 0;
    for (const t of this.ticks.values()) sum += t;
    return { seconds: sum / CLK_TCK, backends: this.ticks.size };
  }
}

export interface Section {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly cpu: {
    readonly nodeSeconds: number;
    readonly postgresBackendSeconds: number;
    readonly postgresBackends: number;
    readonly nodeMicrosPerEvent: number;
    readonly postgresMicrosPerEvent: number;
    readonly totalMicrosPerEvent: number;
    /** PostgreSQL backends' CPU / (this process + backends). */
    readonly postgresShare: number;
  };
  readonly loadAverage: { readonly before: number[]; readonly after: number[] };
}

/**
 * Times `body`, with this process's CPU (or `nodeCpuSeconds()`, e.g. of child processes, read after the body)
 * and that of the backends named `app` (or found by `app`). The backends are sampled a last time after the body,
 * so the body must leave its connections open (it closes them after).
 */
export async function measure<T>(
  admin: pg.Client,
  app: string | ((admin: pg.Client) => Promise<number[]>),
  events: number | ((t: T) => number),
  body: () => Promise<T>,
  nodeCpuSeconds?: () => number,
): Promise<{ section: Section; value: T }> {
  const meter = new BackendCpu(admin, app);
  const before = load();
  meter.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await body();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const backend = await meter.stop();
  const n = typeof events === 'number' ? events : events(value);
  const nodeSeconds = nodeCpuSeconds === undefined ? (cpu.user + cpu.system) / 1e6 : nodeCpuSeconds();
  const perEvent = (s: number): number => r2((s * 1e6) / Math.max(1, n));
  return {
    value,
    section: {
      events: n,
      seconds: r2(seconds),
      eventsPerSecond: Math.round(n / seconds),
      cpu: {
        nodeSeconds: r2(nodeSeconds),
        postgresBackendSeconds: r2(backend.seconds),
        postgresBackends: backend.backends,
        nodeMicrosPerEvent: perEvent(nodeSeconds),
        postgresMicrosPerEvent: perEvent(backend.seconds),
        totalMicrosPerEvent: perEvent(nodeSeconds + backend.seconds),
        postgresShare: r2(backend.seconds / Math.max(1e-9, nodeSeconds + backend.seconds)),
      },
      loadAverage: { before, after: load() },
    },
  };
}

export interface TableRows {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: readonly (string | null)[][];
}

/** A client whose connection errors (e.g. ended by the clean-up) reject its queries instead of crashing. */
export function client(url: string, applicationName: string, types?: pg.CustomTypesConfig): pg.Client {
  const c = new pg.Client({
    connectionString: url,
    application_name: applicationName,
    ...(types === undefined ? {} : { types }),
  });
  c.on('error', () => undefined);
  return c;
}

export const qi = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** Every projection table of a schema (not the store's own `_` tables), its columns in order. */
export async function tablesOf(c: pg.Client, schema: string): Promise<{ name: string; columns: string[] }[]> {
  const { rows } = await c.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE '\\_%'
      ORDER BY c.table_name, c.ordinal_position`,
    [schema],
  );
  const out: { name: string; columns: string[] }[] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (last?.name === r.table_name) last.columns.push(r.column_name);
    else out.push({ name: r.table_name, columns: [r.column_name] });
  }
  return out;
}

/** The rows of every table as the server's text (the exact values, re-insertable as they are). */
export async function dumpRows(
  url: string,
  schema: string,
  applicationName = 'bench-pg-catchup-dump',
): Promise<TableRows[]> {
  const c = client(url, applicationName, asText);
  await c.connect();
  try {
    const out: TableRows[] = [];
    for (const t of await tablesOf(c, schema)) {
      const { rows } = await c.query<(string | null)[]>({
        text: `SELECT ${t.columns.map(qi).join(', ')} FROM ${qi(schema)}.${qi(t.name)}`,
        rowMode: 'array',
      });
      out.push({ name: t.name, columns: t.columns, rows });
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Per table: row count and an order-independent sum of row hashes, computed by the server. */
export async function digest(c: pg.Client, schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await tablesOf(c, schema)) {
    const { rows } = await c.query<{ n: string; h: string }>(
      `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(x::text, 0)), 0)::text AS h FROM ${qi(schema)}.${qi(t.name)} x`,
    );
    out[t.name] = `${rows[0]!.n} rows, hash sum ${rows[0]!.h}`;
  }
  return out;
}

/** COPY text format of one value. */
export function copyText(v: string | null): string {
  if (v === null) return '\\N';
  return /[\\\t\n\r]/.test(v)
    ? v.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r')
    : v;
}

export async function rawInsert(
  client: pg.Client,
  schema: string,
  tables: readonly TableRows[],
  rowsPerStatement: number,
  rowsPerTx: number,
): Promise<void> {
  let inTx = 0;
  await client.query('BEGIN');
  for (const t of tables) {
    const cols = t.columns.map(qi).join(', ');
    const per = Math.max(1, Math.min(rowsPerStatement, Math.floor(65_535 / t.columns.length)));
    for (let i = 0; i < t.rows.length; i += per) {
      const chunk = t.rows.slice(i, i + per);
      const params: (string | null)[] = [];
      const tuples = chunk.map((r) => {
        const base = params.length;
        for (const v of r) params.push(v);
        return `(${r.map((_, k) => `$${base + k + 1}`).join(', ')})`;
      });
      await client.query(
        `INSERT INTO ${qi(schema)}.${qi(t.name)} (${cols}) VALUES ${tuples.join(', ')}`,
        params,
      );
      inTx += chunk.length;
      if (inTx >= rowsPerTx) {
        await client.query('COMMIT');
        await client.query('BEGIN');
        inTx = 0;
      }
    }
  }
  await client.query('COMMIT');
}

export async function rawCopy(
  client: pg.Client,
  schema: string,
  tables: readonly TableRows[],
  rowsPerTx: number,
): Promise<void> {
  for (const t of tables) {
    for (let i = 0; i < t.rows.length; i += rowsPerTx) {
      const chunk = t.rows.slice(i, i + rowsPerTx);
      const sink = client.query(
        copyFrom(`COPY ${qi(schema)}.${qi(t.name)} (${t.columns.map(qi).join(', ')}) FROM STDIN`),
      );
      // Lines encoded as they are sent, in pieces of 1,000 rows.
      function* lines(): Generator<string> {
        for (let j = 0; j < chunk.length; j += 1_000)
          yield chunk
            .slice(j, j + 1_000)
            .map((r) => `${r.map(copyText).join('\t')}\n`)
            .join('');
      }
      await pipeline(Readable.from(lines()), sink);
    }
  }
}

/** Local TCP ports of the sockets the processes `pids` hold open (Linux /proc; empty elsewhere). */
export function tcpPortsOf(pids: readonly number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m !== null) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Pids of the PostgreSQL backends serving connections of the processes `pids` (matched by client port). */
export async function backendsOf(admin: pg.Client, pids: readonly number[]): Promise<number[]> {
  const ports = tcpPortsOf(pids);
  if (ports.length === 0) return [];
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])',
    [ports],
  );
  return rows.map((r) => r.pid);
}
