import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { appendSimulatedPurchases, ClvRefitScheduler } from '@crm-ledger/clv-ledger';
import { fixedClock, StatusBoard, type Logger, type ReadModelStore } from '@crm-ledger/core';
import { createHttpServer, generateApiKey, memoryApiKeyStore } from '@crm-ledger/http-kit';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteEventStore, openSqliteReadModel } from '@crm-ledger/sqlite';
import { registerClvRoutes } from './clv-routes.js';

/**
 * A scheduled refit whose history cannot be fitted (5 customers: TooFewCustomers) is recorded in the read model
 * (`clv_refit_attempts`), so `GET /v1/clv/status` of another process (its own HTTP server, no status board of
 * the refit) answers `failed` with the reason and time; the refit's own status board stays `running` (`/ready`
 * stays ready). On real SQLite files and a real PostgreSQL schema.
 */
const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `clv_refused_${randomBytes(5).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'clv-refused-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const silent: Logger = pino({ level: 'silent' });
const timer = { set: () => undefined, clear: () => undefined };

const stores: [string, (name: string) => Promise<ReadModelStore>][] = [
  ['SQLite', (name) => Promise.resolve(openSqliteReadModel({ file: path.join(dir, `${name}.sqlite`) }))],
  ['PostgreSQL', () => openPostgresReadModelStore({ connectionString: POSTGRES, schema })],
];

describe.each(stores)('a refused scheduled CLV refit on %s', (_name, open) => {
  it('GET /v1/clv/status of any process answers failed with the reason and time; the refit stays running', async () => {
    const store = openSqliteEventStore({ file: path.join(dir, `${_name}-events.sqlite`) });
    const refitModel = await open('readmodel');
    const apiModel = await open('readmodel');
    const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
    const app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
    registerClvRoutes(app, { readModel: apiModel, keys: memoryApiKeyStore([read.record]) });
    await app.ready();
    const status = async () => {
      const res = await app.inject({
        url: '/v1/clv/status',
        headers: { authorization: `Bearer ${read.key}` },
      });
      expect(res.statusCode).toBe(200);
      return res.json<{
        state: string;
        refit: { state: string; at: string; error: string } | null;
        lastAttempt: { at: string; outcome: string; reason: string | null; detail: string | null } | null;
      }>();
    };
    try {
      expect(await status()).toMatchObject({ state: 'none', refit: null, lastAttempt: null });

      await appendSimulatedPurchases(store, { customers: 5, observationEnd: '2026-03-09', seed: 5 });
      const board = new StatusBoard();
      const refit = new ClvRefitScheduler({
        store,
        readModel: refitModel,
        clock: fixedClock('2026-03-10T08:00:00.000Z'),
        timer,
        log: silent,
        everyHours: 24,
        fit: { currency: 'USD' },
        status: board,
      });
      expect(await refit.start()).toMatchObject({ kind: 'failed', error: { type: 'TooFewCustomers' } });
      await refit.stop();
      // the refit process stays ready: a refusal is not a failure of the process
      expect(board.problems().failed).toEqual([]);
      expect(board.get('clv-refit')).toMatchObject({ state: 'running' });

      const s = await status();
      expect(s.state).toBe('failed');
      expect(s.lastAttempt).toMatchObject({
        at: '2026-03-10T08:00:00.000Z',
        outcome: 'refused',
        reason: 'TooFewCustomers',
      });
      expect(s.lastAttempt?.detail).toMatch(/5 customers, at least \d+ needed/);
      expect(s.refit).toMatchObject({ state: 'failed', at: '2026-03-10T08:00:00.000Z' });
      expect(s.refit?.error).toMatch(/^TooFewCustomers: /);
      expect(await refitModel.find('clv_fit', [])).toHaveLength(0);
    } finally {
      await app.close();
      await apiModel.close();
      await refitModel.close();
      await store.close();
    }
  }, 60_000);
});
