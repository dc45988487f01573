import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { customerStream } from '@crm-ledger/events';
import { replay } from '@crm-ledger/projector';
import { openSqliteEventStore, openSqliteReadModel } from '@crm-ledger/sqlite';
import { openReadModelStore } from '@crm-ledger/app';
import { generateHistory } from '@crm-ledger/synthetic';
import { afterAll, describe, expect, it } from 'vitest';
import { testBrokers } from './test-support/broker.js';
import { dumpViews, sleep, startProjector, type ProjectorProcess } from './test-support/processes.js';

// Issue 17, the Done-when: projector processes in one Kafka consumer group share the views by partition.
// Real broker (infra/kafka), real relay (crm-relay, `single` layout, 12 partitions), real PostgreSQL, real
// `crm-ledger-projector` processes in CRM_LEDGER_PROJECTOR_SOURCE=kafka. Three start; one is SIGKILLed while a
// batch's transaction is written but not committed; one is added; one stops cleanly; all the while the test
// appends customers to the ledger and the relay publishes them. Afterwards every view table equals a clean
// single-instance rebuild from the ledger, and the per-partition offset history written with the rows shows
// every partition applied as contiguous, non-overlapping batches from offset 0 to its end.
const RELAY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../relay/dist/main.js');
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PARTITIONS = 12;
const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-scaleout-'));
const tag = randomBytes(4).toString('hex');
const schema = `scaleout_${tag}`;
const prefix = `scaleout-${tag}`;
const group = `scaleout-projectors-${tag}`;
const topic = `${prefix}.events`;

const kafkaEnv = {
  CRM_LEDGER_DATA_DIR: dir,
  CRM_LEDGER_KAFKA_TOPIC_PREFIX: prefix,
  CRM_LEDGER_KAFKA_TOPIC_LAYOUT: 'single',
  CRM_LEDGER_KAFKA_PARTITIONS: String(PARTITIONS),
};
const projectorEnv = {
  ...kafkaEnv,
  CRM_LEDGER_READ_MODEL_STORE: 'postgres',
  CRM_LEDGER_POSTGRES_URL: POSTGRES,
  CRM_LEDGER_POSTGRES_SCHEMA: schema,
  CRM_LEDGER_PROJECTOR_SOURCE: 'kafka',
  CRM_LEDGER_PROJECTOR_GROUP_ID: group,
  CRM_LEDGER_PROJECTOR_SESSION_TIMEOUT_MS: '8000',
  CRM_LEDGER_CLV_REFIT_HOURS: '0',
};

interface Assigned {
  msg: string;
  partitions?: string[];
}
interface Pending {
  msg: string;
  partition?: number;
  from?: number;
  to?: number;
}
interface ReadyBody {
  status: string;
  lag?: {
    head: number;
    partitions?: { partition: number; nextOffset: number; endOffset: number; lag: number }[];
  };
}

/** The partitions of the member's latest assignment (undefined before its first). */
const assignment = (p: ProjectorProcess): string[] | undefined =>
  (p.lines as unknown as Assigned[]).filter((l) => l.msg === 'kafka projector: partitions assigned').at(-1)
    ?.partitions;

describe('projector instances in a Kafka consumer group (12 partitions) into PostgreSQL', () => {
  const histories = [...generateHistory({ seed: 17, customers: 400, targetEvents: 20_000 })];
  const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  const append = async (from: number, to: number): Promise<void> => {
    for (const h of histories.slice(from, to)) {
      const r = await store.append(customerStream(h.customerId), h.events);
      if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
    }
  };
  const procs: ProjectorProcess[] = [];
  let relay: ReturnType<typeof spawn> | undefined;

  afterAll(async () => {
    // CRM_LEDGER_TEST_KEEP_LOGS=<dir>: every process's log there, to read after a failure.
    const keep = process.env.CRM_LEDGER_TEST_KEEP_LOGS;
    if (keep !== undefined && keep !== '') {
      mkdirSync(keep, { recursive: true });
      for (const p of procs) writeFileSync(path.join(keep, `${p.name}.log`), p.log());
    }
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    if (relay !== undefined && relay.exitCode === null) {
      relay.kill('SIGKILL');
      await new Promise((r) => relay!.once('exit', r));
    }
    await store.close();
    const c = new pg.Client({ connectionString: POSTGRES });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('instances die, join and leave while events are appended: no event lost or applied twice, the views equal a clean rebuild', async () => {
    await append(0, 80);
    let relayLog = '';
    relay = spawn(process.execPath, [RELAY], {
      env: {
        ...process.env,
        ...kafkaEnv,
        CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
        CRM_LEDGER_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    relay.stdout!.on('data', (b: Buffer) => (relayLog += b.toString()));
    relay.stderr!.on('data', (b: Buffer) => (relayLog += b.toString()));
    for (let i = 0; !relayLog.includes('relay starting'); i++) {
      if (i > 1200 || relay.exitCode !== null) throw new Error(`the relay did not start:\n${relayLog}`);
      await sleep(50);
    }

    const env = { ...projectorEnv, CRM_LEDGER_KAFKA_BROKERS: testBrokers() };
    // A holds each batch's transaction open 1.5 s after writing it: it is killed in there.
    const a = startProjector('A', { ...env, CRM_LEDGER_TEST_KAFKA_COMMIT_PAUSE_MS: '1500' });
    const b = startProjector('B', env);
    const c = startProjector('C', env);
    procs.push(a, b, c);
    // The group settles on three members with 4 partitions each.
    for (const p of [a, b, c])
      await p.waitFor('a share of the partitions', () => assignment(p)?.length === 4, 90_000);

    // Appends go on through everything that follows (one customer's history every 250 ms).
    let appended = 80;
    let stop = false;
    const appender = (async () => {
      while (!stop && appended < histories.length) {
        await append(appended, appended + 1);
        appended++;
        await sleep(250);
      }
    })();

    // A is SIGKILLed with a batch written and not committed, after it committed some.
    await a.waitFor('A commits a batch', () => a.batches().length > 0, 90_000);
    const isPending = (l: unknown): boolean => (l as Pending).msg === 'batch written, not committed';
    const pendingBefore = a.lines.filter(isPending).length;
    await a.waitFor('a batch in flight', () => a.lines.filter(isPending).length > pendingBefore, 90_000);
    const pending = a.lines.filter(isPending).at(-1) as unknown as Pending;
    a.child.kill('SIGKILL');
    await a.exited;

    // D joins; the group gives it a share (and A's partitions go to the living once A's session expires).
    const d = startProjector('D', env);
    procs.push(d);
    await d.waitFor('D applies a batch', () => d.batches().length > 0, 90_000);
    expect(assignment(d)?.length).toBeGreaterThan(0);

    // B stops cleanly (SIGTERM) while appends go on: its batch in flight is finished or abandoned, not halved.
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // Everything above happened while events were being appended.
    expect(appended).toBeLessThan(histories.length);
    await sleep(1_000);
    stop = true;
    await appender;

    // C and D catch up with everything the relay published: every partition at its end, the head applied.
    const head = await store.headPosition();
    const admin = new pg.Client({ connectionString: POSTGRES });
    await admin.connect();
    try {
      const url = await d.url();
      let ready: ReadyBody | undefined;
      let maxPosition = 0;
      for (const until = Date.now() + 180_000; ;) {
        ready = (await (await fetch(`${url}/ready`)).json()) as ReadyBody;
        const { rows } = await admin.query<{ max: string | null }>(
          `SELECT max(position) AS max FROM "${schema}"._partition_offsets WHERE group_id = $1`,
          [group],
        );
        maxPosition = Number(rows[0]?.max ?? 0);
        const parts = ready.lag?.partitions ?? [];
        if (maxPosition === head && parts.length === PARTITIONS && parts.every((p) => p.lag === 0)) break;
        if (Date.now() > until)
          throw new Error(`no catch-up: head ${head}, applied ${maxPosition}, ${JSON.stringify(ready)}`);
        await sleep(500);
      }
      // Lag is reported per partition on /ready: all 12, each at its end now.
      const ends = new Map(ready.lag!.partitions!.map((p) => [p.partition, p.endOffset]));
      expect([...ends.keys()].sort((x, y) => x - y)).toEqual([...Array(PARTITIONS).keys()]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        /crm_ledger_projection_partition_lag_messages\{topic="[^"]+",partition="11"\} 0/,
      );

      for (const p of [c, d]) p.child.kill('SIGTERM');
      expect(await c.exited).toBe(0);
      expect(await d.exited).toBe(0);

      // The offset history: per partition, batches [from, to) from 0 to the end, each starting where the
      // previous one ended: none applied twice, none skipped.
      const { rows: history } = await admin.query<{
        partition: number;
        from_offset: string;
        to_offset: string;
        instance: string;
      }>(
        `SELECT partition, from_offset, to_offset, instance FROM "${schema}"._partition_offset_history
          WHERE group_id = $1 AND topic = $2 ORDER BY partition, from_offset, id`,
        [group, topic],
      );
      let total = 0;
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const ranges = history
          .filter((h) => h.partition === partition)
          .map((h) => [Number(h.from_offset), Number(h.to_offset)] as const);
        expect(ranges.length, `partition ${partition}`).toBeGreaterThan(0);
        expect(ranges[0]![0], `partition ${partition} starts at 0`).toBe(0);
        for (let i = 1; i < ranges.length; i++)
          expect(ranges[i]![0], `partition ${partition}, batch ${i}`).toBe(ranges[i - 1]![1]);
        expect(ranges.at(-1)![1], `partition ${partition} ends at its end offset`).toBe(ends.get(partition));
        total += ends.get(partition)!;
      }
      // Every event of the ledger went through the topic once (the relay did not restart: no duplicates).
      expect(total).toBe(head);
      // The batch A was killed in never committed: the instance that applied those offsets afterwards is not A.
      const killed = history.filter(
        (h) => h.partition === pending.partition && Number(h.from_offset) === pending.from,
      );
      expect(killed).toHaveLength(1);
      expect(killed[0]!.instance).not.toContain(`-${a.child.pid}-`);
      // Every instance applied batches, A before it was killed.
      for (const p of [a, b, c, d])
        expect(
          history.some((h) => h.instance.includes(`-${p.child.pid}-`)),
          `${p.name} applied something`,
        ).toBe(true);
    } finally {
      await admin.end();
    }

    // The views equal a clean single-instance rebuild from the ledger (a double-applied event would double
    // counters, a lost one would be missing).
    const pgStore = await openReadModelStore({ kind: 'postgres', connectionString: POSTGRES, schema });
    const clean = openSqliteReadModel({ file: path.join(dir, 'clean.sqlite') });
    try {
      await replay({ store, readModel: clean });
      const expected = await dumpViews(clean);
      expect(expected['service_tickets']!.length).toBeGreaterThan(100);
      expect(await dumpViews(pgStore)).toEqual(expected);
    } finally {
      await pgStore.close();
      await clean.close();
    }
  }, 600_000);
});
