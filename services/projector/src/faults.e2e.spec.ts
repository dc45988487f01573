import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { POSTGRES_CONNECTION_SETTINGS } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { PROJECTION_NAMES } from '@crm-ledger/projections';
import { replay } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { openReadModelStore } from '@crm-ledger/app';
import { generateHistory, type CustomerHistory } from '@crm-ledger/synthetic';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './test-support/fault-proxy.js';
import { dumpViews, sleep, startProjector, type ProjectorProcess } from './test-support/processes.js';

// Issue 23: the projector heals itself. Real `crm-ledger-projector` processes on a real PostgreSQL, reached
// through a fault-injecting TCP proxy: a connection killed mid-transaction, a 3-second outage mid catch-up and
// again while caught up, a holder whose network is gone, a holder frozen inside a transaction. Each time the
// processes stay up, the views resume within the documented bound (docs/deploy.md: a standby takes over
// within 20 s), and every table equals a clean rebuild (no event lost, none applied twice).
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG = new URL(POSTGRES);
/** The takeover bound docs/deploy.md states; the specs assert it. */
const TAKEOVER_BOUND_MS = 20_000;

const histories: CustomerHistory[] = [...generateHistory({ seed: 23, customers: 400, targetEvents: 60_000 })];

function viaProxy(proxy: FaultProxy): string {
  const u = new URL(POSTGRES);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

async function admin<T>(body: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: POSTGRES });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

/** The sessions a proxy carries, as PostgreSQL sees them. */
function sessions(proxy: FaultProxy) {
  return admin(async (c) => {
    const { rows } = await c.query<{
      pid: number;
      application_name: string;
      state: string | null;
      in_transaction: boolean;
    }>(
      `SELECT pid, application_name, state, xact_start IS NOT NULL AS in_transaction
         FROM pg_stat_activity WHERE client_addr = '127.0.0.1' AND client_port = ANY($1::int[])`,
      [proxy.upstreamPorts()],
    );
    return rows;
  });
}

/** Advisory locks granted to these backends. */
function locksHeldBy(pids: readonly number[]) {
  return admin(async (c) => {
    const { rows } = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = ANY($1::int[])`,
      [pids],
    );
    return rows[0]!.n;
  });
}

/** One scenario's world: a ledger file, a PostgreSQL schema, proxies, processes; all cleaned up after. */
function world() {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-faults-'));
  const schema = `faults_${randomBytes(5).toString('hex')}`;
  const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  const procs: ProjectorProcess[] = [];
  const proxies: FaultProxy[] = [];
  let appended = 0;
  const w = {
    store,
    async append(customers: number): Promise<number> {
      for (const h of histories.slice(appended, appended + customers)) {
        const r = await store.append(customerStream(h.customerId), h.events);
        if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
      }
      appended += customers;
      return store.headPosition();
    },
    async proxy(): Promise<FaultProxy> {
      const p = await FaultProxy.start({ host: PG.hostname, port: Number(PG.port || 5432) });
      proxies.push(p);
      return p;
    },
    start(name: string, proxy: FaultProxy): ProjectorProcess {
      const p = startProjector(name, {
        CRM_LEDGER_DATA_DIR: dir,
        CRM_LEDGER_READ_MODEL_STORE: 'postgres',
        CRM_LEDGER_POSTGRES_URL: viaProxy(proxy),
        CRM_LEDGER_POSTGRES_SCHEMA: schema,
        // These scenarios count the advisory locks of the four views; the scheduled CLV refit (which the
        // projector service runs since the root assembles it) holds a lock of its own, so it is off here.
        // Its lock is covered by packages/app/src/components/clv-refit-lock.int.spec.ts.
        CRM_LEDGER_CLV_REFIT_HOURS: '0',
      });
      procs.push(p);
      return p;
    },
    /** Waits until every view's checkpoint is the head, then compares every table with a clean rebuild. */
    async expectCleanRebuild(withinMs = 120_000): Promise<void> {
      const head = await store.headPosition();
      const views = await openReadModelStore({ kind: 'postgres', connectionString: POSTGRES, schema });
      const clean = openSqliteReadModel({ file: path.join(dir, `clean-${Date.now()}.sqlite`) });
      try {
        const until = Date.now() + withinMs;
        for (;;) {
          const cps = await Promise.all(PROJECTION_NAMES.map((n) => views.checkpoint(n)));
          if (cps.every((c) => c === head)) break;
          if (Date.now() > until) throw new Error(`views at ${cps.join(', ')}, head ${head}`);
          await sleep(200);
        }
        await replay({ store, readModel: clean });
        const expected = await dumpViews(clean);
        expect(expected['service_tickets']!.length).toBeGreaterThan(100);
        expect(await dumpViews(views)).toEqual(expected);
      } finally {
        await views.close();
        await clean.close();
      }
    },
    async cleanup(): Promise<void> {
      for (const p of procs) {
        if (p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill('SIGCONT');
          p.child.kill('SIGKILL');
        }
      }
      await Promise.all(procs.map((p) => p.exited));
      for (const p of proxies) await p.close();
      await store.close();
      await admin(async (c) => {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return w;
}

/** Prints a measured time (the numbers docs/deploy.md quotes come from these lines). */
const measured = (what: string, ms: number): void => {
  process.stdout.write(`[faults] ${what}: ${ms} ms\n`);
};

const alive = (p: ProjectorProcess): boolean => p.child.exitCode === null && p.child.signalCode === null;

describe('the projector heals itself (real processes, real PostgreSQL, a fault-injecting proxy)', () => {
  let w: ReturnType<typeof world> | undefined;
  afterEach(async () => {
    await w?.cleanup();
    w = undefined;
  });

  it('a query connection killed mid-transaction: the process stays up and goes on (was: exits in 30 ms)', async () => {
    w = world();
    await w.append(300);
    const proxy = await w.proxy();
    const a = w.start('A', proxy);
    await a.waitFor('A applies a batch', (l) => l.msg === 'applied');
    // Kill A's query connections while one is inside a write transaction.
    let killedAt = 0;
    for (let tries = 0; killedAt === 0 && tries < 400; tries++) {
      const inTx = (await sessions(proxy)).filter(
        (s) => s.application_name === 'crm-ledger' && s.in_transaction,
      );
      if (inTx.length > 0) {
        await admin((c) =>
          c.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [inTx.map((s) => s.pid)]),
        );
        killedAt = Date.now();
      } else await sleep(20);
    }
    expect(killedAt).toBeGreaterThan(0);
    await a.waitFor('A retries', (l) => /transient failure, retrying/.test(l.msg), 10_000);
    const next = await a.waitFor('A applies again', (l) => l.msg === 'applied' && l.at > killedAt, 30_000);
    measured('connection killed mid-transaction -> next batch applied', next.at - killedAt);
    expect(next.at - killedAt).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(alive(a)).toBe(true);
    await w.expectCleanRebuild();
  }, 300_000);

  it('a 3-second outage mid catch-up, then again while caught up: both processes resume by themselves; /ready says degraded meanwhile', async () => {
    w = world();
    await w.append(300);
    const proxy = await w.proxy();
    const a = w.start('A', proxy);
    const b = w.start('B', proxy);
    const urls = await Promise.all([a.url(), b.url()]);
    await Promise.race([
      a.waitFor('a batch', (l) => l.msg === 'applied'),
      b.waitFor('a batch', (l) => l.msg === 'applied'),
    ]);
    // The holder is the process that applied the latest batch (after an outage either may have taken over).
    const lastBatchAt = (p: ProjectorProcess): number => Math.max(0, ...p.batches().map((l) => l.at));
    for (const phase of ['mid catch-up', 'caught up']) {
      if (phase === 'caught up') {
        await w.expectCleanRebuild();
        await w.append(60); // appended while the database is about to go away
      }
      const holderUrl = lastBatchAt(a) >= lastBatchAt(b) ? urls[0] : urls[1];
      const outageStart = Date.now();
      proxy.reset();
      await proxy.refuse();
      await sleep(1_500);
      const ready = (await (await fetch(`${holderUrl}/ready`)).json()) as { status: string; reason?: string };
      expect(ready.status, phase).toBe('degraded');
      expect(ready.reason).toMatch(/projector: retrying since \S+ \(\d+ attempts\), last error: /);
      const status = (await (await fetch(`${holderUrl}/status`)).json()) as {
        components: Record<string, { state: string; since?: string; lastError?: string }>;
      };
      expect(status.components['projector']).toMatchObject({ state: 'retrying' });
      expect(status.components['projector']!.lastError).toBeTruthy();
      await sleep(3_000 - (Date.now() - outageStart));
      await proxy.pass();
      const passedAt = Date.now();
      const before = a.batches().length + b.batches().length;
      await w.expectCleanRebuild();
      expect(a.batches().length + b.batches().length, phase).toBeGreaterThan(before);
      // Resumed within the bound after the database came back.
      const firstAfter = [...a.batches(), ...b.batches()]
        .filter((l) => l.at >= passedAt)
        .sort((x, y) => x.at - y.at)[0]!;
      measured(`3 s outage ${phase}: database back -> next batch applied`, firstAfter.at - passedAt);
      expect(firstAfter.at - passedAt, phase).toBeLessThan(TAKEOVER_BOUND_MS);
      expect([alive(a), alive(b)], phase).toEqual([true, true]);
      // Each process says ready again once its own next attempt at the database succeeds: the one that did
      // not take the views back is on its backoff (a few seconds after a 3 s outage), so /ready is polled.
      for (const url of urls) {
        const deadline = Date.now() + TAKEOVER_BOUND_MS;
        let status = '';
        while (Date.now() < deadline) {
          status = ((await (await fetch(`${url}/ready`)).json()) as { status: string }).status;
          if (status === 'ready') break;
          await sleep(100);
        }
        expect(status, `${phase}: ${url}/ready`).toBe('ready');
      }
    }
    for (const p of [a, b]) expect(p.log()).not.toContain('projector stopped');
  }, 300_000);

  it('a holder whose network is gone: the server frees its locks and the standby takes over within the bound; back on the network, the old holder stays a standby', async () => {
    w = world();
    await w.append(200);
    const [pa, pb] = [await w.proxy(), await w.proxy()];
    const a = w.start('A', pa);
    await a.waitFor('A runs every view', (l) => l.running?.length === PROJECTION_NAMES.length);
    await a.waitFor('A applies', (l) => l.msg === 'applied');
    const b = w.start('B', pb);
    await b.waitFor('B is a standby', (l) => Array.isArray(l.running) && l.running.length === 0);
    const aPids = (await sessions(pa)).map((s) => s.pid);
    expect(await locksHeldBy(aPids)).toBe(PROJECTION_NAMES.length);

    await w.append(100);
    pa.blackhole();
    const cutAt = Date.now();
    const took = await b.waitFor(
      'B takes over',
      (l) => l.running?.length === PROJECTION_NAMES.length,
      60_000,
    );
    measured('holder network gone -> standby holds every view', took.at - cutAt);
    expect(took.at - cutAt).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(await locksHeldBy(aPids)).toBe(0);
    await w.expectCleanRebuild();

    await pa.pass();
    const passedAt = Date.now();
    // Back on the network, A finds its lock sessions gone and says so: it runs nothing (B holds every view).
    // Waited for, not slept for: A notices at the answer to its next query, and a query the blackhole swallowed
    // before it reached the server (A was starting a batch of the 100 events just appended) has no answer coming:
    // the server never saw it, so it ended nothing and the proxy resets nothing on pass; the client gives up at its
    // query timeout (POSTGRES_CONNECTION_SETTINGS.query_timeout, 70 s). Until then A waits, writing nothing.
    await a.waitFor(
      'A says it is a standby',
      (l) => Array.isArray(l.running) && l.running.length === 0 && l.at >= passedAt,
      POSTGRES_CONNECTION_SETTINGS.query_timeout + TAKEOVER_BOUND_MS,
    );
    await sleep(2_000);
    expect(alive(a)).toBe(true);
    expect(a.lockLines().at(-1)!.running).toEqual([]);
    await w.append(60);
    await w.expectCleanRebuild();
  }, 300_000);

  it('a holder frozen inside a transaction: its transaction and locks are ended, the standby writes within the bound; resumed, the old holder writes nothing twice', async () => {
    w = world();
    await w.append(300);
    const [pa, pb] = [await w.proxy(), await w.proxy()];
    const a = w.start('A', pa);
    await a.waitFor('A runs every view', (l) => l.running?.length === PROJECTION_NAMES.length);
    const b = w.start('B', pb);
    await b.waitFor('B is a standby', (l) => Array.isArray(l.running) && l.running.length === 0);
    await w.append(100);
    // Freeze A (SIGSTOP) at a moment it has a write transaction open.
    let frozenAt = 0;
    for (let tries = 0; frozenAt === 0 && tries < 300; tries++) {
      a.child.kill('SIGSTOP');
      await sleep(50);
      const inTx = (await sessions(pa)).filter(
        (s) => s.application_name === 'crm-ledger' && s.in_transaction,
      );
      if (inTx.length > 0) frozenAt = Date.now();
      else {
        a.child.kill('SIGCONT');
        await sleep(30 + Math.random() * 100);
      }
    }
    expect(frozenAt).toBeGreaterThan(0);
    const took = await b.waitFor(
      'B takes over',
      (l) => l.running?.length === PROJECTION_NAMES.length,
      60_000,
    );
    measured('holder frozen in a transaction -> standby holds every view', took.at - frozenAt);
    expect(took.at - frozenAt).toBeLessThan(TAKEOVER_BOUND_MS);
    const wrote = await b.waitFor('B writes', (l) => l.msg === 'applied', 60_000);
    measured('holder frozen in a transaction -> standby applied a batch', wrote.at - frozenAt);
    expect(wrote.at - frozenAt).toBeLessThan(TAKEOVER_BOUND_MS + 5_000);
    expect((await sessions(pa)).filter((s) => s.in_transaction)).toEqual([]);
    await w.expectCleanRebuild();

    a.child.kill('SIGCONT');
    await sleep(6_000);
    expect(alive(a)).toBe(true);
    expect(a.log()).not.toContain('a rebuild was swapped in: resuming from its checkpoint');
    await w.append(60);
    await w.expectCleanRebuild();
  }, 300_000);
});
