import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { dropSchemas, POSTGRES } from '../test-support/postgres.js';
import { afterAll, describe, expect, it } from 'vitest';
import { whileHoldingLock } from './clv-refit.js';

const schema = `refit_lock_${randomBytes(5).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-refit-lock-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchemas(schema);
});

const until = async (ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
};

describe('one CLV refit per shared read model', () => {
  it('on PostgreSQL, one process refits and the other stands by until the first stops', async () => {
    const a = await openPostgresReadModelStore({ connectionString: POSTGRES, schema });
    const b = await openPostgresReadModelStore({ connectionString: POSTGRES, schema });
    const runs: string[] = [];
    const stops: string[] = [];
    const started = (name: string) => () => {
      runs.push(name);
      return () => {
        stops.push(name);
        return Promise.resolve();
      };
    };
    try {
      const stopA = whileHoldingLock(a, started('a'), { retryMs: 50 });
      await until(() => runs.length > 0, 5_000);
      const stopB = whileHoldingLock(b, started('b'), { retryMs: 50 });
      await new Promise((r) => setTimeout(r, 500));
      expect(runs).toEqual(['a']);
      await stopA();
      expect(stops).toEqual(['a']);
      await until(() => runs.length > 1, 5_000);
      expect(runs).toEqual(['a', 'b']);
      await stopB();
      expect(stops).toEqual(['a', 'b']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('on SQLite (one process per file), it refits at once', async () => {
    const readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
    let runs = 0;
    const stop = whileHoldingLock(readModel, () => {
      runs++;
      return () => Promise.resolve();
    });
    expect(runs).toBe(1);
    await stop();
    await readModel.close();
  });
});
