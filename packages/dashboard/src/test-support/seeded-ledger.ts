import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { fixedClock } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { createHttpServer, fileApiKeyStore, generateApiKey } from '@crm-ledger/http-kit';
import { Projector } from '@crm-ledger/projector';
import { fitClvFromStore, writeClvToReadModel } from '@crm-ledger/clv-ledger';
import { registerClvRoutes, registerQueryRoutes } from '@crm-ledger/query-api';
import { openSqliteReadModel } from '@crm-ledger/readmodel-sqlite';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerDashboard } from '../plugin.js';

export interface SeededLedger {
  readonly url: string;
  /** A key with the read scope only. */
  readonly readKey: string;
  readonly appended: number;
  stop(): Promise<void>;
}

/**
 * A ledger for the browser tests and for looking at the dashboard by hand: the deterministic synthetic
 * history appended through the SQLite event store, the projector caught up, and the query API and the
 * dashboard on one HTTP server, "now" fixed just after the history ends (2026-01-01).
 */
export async function startSeededLedger(options: {
  readonly customers: number;
  readonly seed: number;
  readonly port?: number;
}): Promise<SeededLedger> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-'));
  const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  let appended = 0;
  for (const h of generateHistory({ seed: options.seed, customers: options.customers })) {
    const r = await store.append(customerStream(h.customerId), h.events);
    if (r._tag === 'Left') throw new Error(`seeding failed: ${JSON.stringify(r.left)}`);
    appended += h.events.length;
  }
  const readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
  await new Projector({ store, readModel }).catchUp();
  // The CLV fit `crm-ledger start` would make at "now" (observation window up to the day before), in USD (the currency most of the seeded purchases use that the fit converges on).
  const fit = await fitClvFromStore(
    store,
    { observationEnd: '2025-12-31', currency: 'USD' },
    fixedClock('2026-01-01T00:00:00Z'),
  );
  if (fit._tag === 'Left') throw new Error(`CLV fit failed: ${JSON.stringify(fit.left)}`);
  await writeClvToReadModel(readModel, fit.right.record, fit.right.summaries, await store.headPosition());
  const keys = fileApiKeyStore(path.join(dir, 'keys.json'));
  const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
  await keys.add(read.record);
  const app = await createHttpServer({
    logger: pino({ level: 'silent' }),
    title: 'dashboard test',
    version: '0',
  });
  registerQueryRoutes(app, { store, readModel, keys, clock: fixedClock('2026-01-01T00:00:00Z') });
  registerClvRoutes(app, { readModel, keys });
  registerDashboard(app);
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    readKey: read.key,
    appended,
    async stop() {
      await app.close();
      await readModel.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
