import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { fixedClock, StatusBoard } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { createHttpServer, generateApiKey } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { fitClvFromStore, writeClvToReadModel } from '@crm-ledger/clv-ledger';
import { registerClvRoutes, registerQueryRoutes } from '@crm-ledger/query-api';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { registerDashboard } from '../plugin.js';

export interface SeededLedger {
  readonly url: string;
  /** A key with the read scope only. */
  readonly readKey: string;
  readonly appended: number;
  /** The status board the query API reads the CLV refit's state from (entry `clv-refit`). */
  readonly status: StatusBoard;
  /**
   * Appends events to a customer's stream of the ledger (e.g. exchange rates, which the query API reads live),
   * then catches the projector up, so the views hold them too (e.g. signals and the outreaches acting on them).
   */
  append(customerId: string, events: readonly RawEnvelope[]): Promise<void>;
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
  /** Fit CLV as `crm-ledger start` would (default true); false: a ledger with no fit yet. */
  readonly fitClv?: boolean;
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
  if (options.fitClv !== false) {
    const fit = await fitClvFromStore(
      store,
      { observationEnd: '2025-12-31', currency: 'USD' },
      fixedClock('2026-01-01T00:00:00Z'),
    );
    if (fit._tag === 'Left') throw new Error(`CLV fit failed: ${JSON.stringify(fit.left)}`);
    await writeClvToReadModel(readModel, fit.right.record, fit.right.summaries, await store.headPosition());
  }
  const status = new StatusBoard();
  const keys = openSqliteAuthStore(path.join(dir, 'auth.sqlite')).keys;
  const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
  await keys.add(read.record);
  const app = await createHttpServer({
    logger: pino({ level: 'silent' }),
    title: 'dashboard test',
    version: '0',
  });
  registerQueryRoutes(app, {
    store,
    readModel,
    keys,
    clock: fixedClock('2026-01-01T00:00:00Z'),
    // the "as of" filter is a cut: its views are built in memory, as `crm-ledger start` does on SQLite
    openScratchReadModel: () => Promise.resolve(openSqliteReadModel({ file: ':memory:' })),
  });
  registerClvRoutes(app, { readModel, keys, refitStatus: status });
  registerDashboard(app);
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    readKey: read.key,
    appended,
    status,
    async append(customerId, events) {
      const r = await store.append(customerStream(customerId), events);
      if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
      await new Projector({ store, readModel }).catchUp();
    },
    async stop() {
      await app.close();
      await readModel.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
