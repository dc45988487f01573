import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LedgerEnv } from '@crm-ledger/config';
import { openEventStoreDbStore } from '@crm-ledger/eventstoredb';
import { FaultServer, seed } from '@crm-ledger/eventstoredb/testing';
import { startLedger } from './ledger.js';

/**
 * Issue #22: a subscription of the event store that lost its server says so where operators look. The real
 * EventStoreDB client against the fault server of @crm-ledger/eventstoredb/testing (no EventStoreDB can
 * run here): while nothing answers, `/ready` is degraded and names the retrying subscription, `/metrics` counts
 * it; once the server is back, the subscription is live and `/ready` is ready again.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-substatus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the event store subscriptions on /ready and /metrics', () => {
  it('a retrying subscription makes the process degraded and is counted; back to ready once it is live', async () => {
    const probe = await FaultServer.start();
    const port = probe.port;
    probe.stop(); // nothing listens there now
    const store = openEventStoreDbStore({
      connectionString: `esdb://127.0.0.1:${port}?tls=false`,
      resubscribe: { initialDelayMs: 5, maxDelayMs: 50 },
    });
    const config = LedgerEnv.parse({ CRM_LEDGER_DATA_DIR: dir, CRM_LEDGER_PORT: '0' });
    const ledger = await startLedger({
      config,
      logger: pino({ level: 'silent' }),
      components: [],
      // headPosition would fail while nothing answers: the readiness check is about the store being reachable,
      // this spec is about the subscription's own report
      openStore: () =>
        Promise.resolve({
          store: {
            append: store.append.bind(store),
            readStream: store.readStream.bind(store),
            readAll: store.readAll.bind(store),
            subscribe: store.subscribe.bind(store),
            positionAt: store.positionAt.bind(store),
            close: store.close.bind(store),
            subscriptionStatus: store.subscriptionStatus.bind(store),
            headPosition: () => Promise.resolve(0),
          },
          describe: 'EventStoreDB (fault server)',
        }),
    });
    const abort = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const batch of store.subscribe({ signal: abort.signal }))
        for (const e of batch) seen.push(e.globalPosition);
    })();
    let node: FaultServer | undefined;
    try {
      await until(async () => {
        const r = await fetch(`${ledger.url}/ready`);
        const body = (await r.json()) as { status: string; reason?: string };
        return (
          body.status === 'degraded' && /event store subscription \d+: retrying since/.test(body.reason ?? '')
        );
      }, 'a degraded /ready naming the subscription');
      const metrics = await (await fetch(`${ledger.url}/metrics`)).text();
      expect(metrics).toMatch(/crm_ledger_store_subscriptions\{state="retrying"\} 1/);
      expect(metrics).toMatch(/crm_ledger_store_subscription_failures [1-9]/);

      node = await FaultServer.start({ port });
      seed(node, 3);
      await until(() => Promise.resolve(seen.length === 3), 'the events once the server is back');
      await until(async () => {
        const body = (await (await fetch(`${ledger.url}/ready`)).json()) as { status: string };
        return body.status === 'ready';
      }, 'ready again');
      const after = await (await fetch(`${ledger.url}/metrics`)).text();
      expect(after).toMatch(/crm_ledger_store_subscriptions\{state="live"\} 1/);
      expect(after).toMatch(/crm_ledger_store_subscriptions\{state="retrying"\} 0/);
    } finally {
      abort.abort();
      await loop.catch(() => undefined);
      await ledger.stop();
      node?.stop();
    }
  }, 60_000);
});
