import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import pg from 'pg';

/** Runs the built `crm-ledger` command as a child process. */
const main = path.resolve(import.meta.dirname, '../../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-clv-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cdnowDir = [
  process.env.CRM_LEDGER_CDNOW_DIR,
  path.resolve(import.meta.dirname, '../../../../../shared/data/cdnow'),
  '/work/shared/data/cdnow',
].find((d): d is string => d !== undefined && existsSync(path.join(d, 'CDNOW_sample.txt')));

function run(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000, env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

const within = (actual: number, expected: number): void => {
  expect(Math.abs(actual / expected - 1)).toBeLessThan(0.01);
};

describe('crm-ledger clv', () => {
  it('has --help on clv, clv fit and clv show', async () => {
    for (const args of [['clv'], ['clv', 'fit'], ['clv', 'show']]) {
      const r = await run([...args, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: crm-ledger clv');
    }
  });

  it('refuses a wrong day with exit code 2 and says nothing was fitted on an empty ledger (exit 1)', async () => {
    const dataDir = path.join(root, 'empty');
    const bad = await run(['clv', 'fit', '--observation-end', '1997-13-01', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--observation-end');
    const empty = await run(['clv', 'fit', '--observation-end', '1997-09-30', '--data-dir', dataDir]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('too few customers');
    const show = await run(['clv', 'show', '--data-dir', dataDir]);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('no fit yet');
  });

  it.runIf(cdnowDir !== undefined)(
    'fits CDNOW_sample imported through the CLI, stores the fit with its date and window, shows it',
    async () => {
      const dataDir = path.join(root, 'cdnow');
      const imported = await run([
        'import',
        path.join(cdnowDir!, 'CDNOW_sample.txt'),
        '--format',
        'cdnow-sample',
        '--data-dir',
        dataDir,
        '--sqlite-synchronous',
        'normal',
      ]);
      expect(imported.code).toBe(0);
      const fit = await run([
        'clv',
        'fit',
        '--observation-end',
        '1997-09-30',
        '--currency',
        'usd',
        '--data-dir',
        dataDir,
      ]);
      expect(fit.code).toBe(0);
      const record = JSON.parse(fit.stdout) as {
        fittedAt: string;
        window: unknown;
        bgNbd: { params: { r: number; alpha: number; a: number; b: number }; customers: number };
        gammaGamma: { params: { p: number; q: number; v: number }; customers: number };
      };
      expect(record.window).toEqual({
        firstPurchaseDay: '1997-01-01',
        observationEnd: '1997-09-30',
        daysPerUnit: 7,
      });
      expect(Date.parse(record.fittedAt)).toBeGreaterThan(Date.parse('2025-01-01'));
      expect(record.bgNbd.customers).toBe(2357);
      within(record.bgNbd.params.r, 0.243);
      within(record.bgNbd.params.alpha, 4.414);
      within(record.bgNbd.params.a, 0.793);
      within(record.bgNbd.params.b, 2.426);
      within(record.gammaGamma.params.p, 6.25);
      within(record.gammaGamma.params.q, 3.74);
      within(record.gammaGamma.params.v, 15.44);
      const latest = path.join(dataDir, 'clv', 'latest.json');
      expect(JSON.parse(readFileSync(latest, 'utf8'))).toEqual(record);
      const show = await run(['clv', 'show', '--data-dir', dataDir]);
      expect(show.code).toBe(0);
      expect(JSON.parse(show.stdout)).toEqual(record);
      // Every customer's score is in the read model, for the query API and plain SQL.
      const readModel = openSqliteReadModel({ file: path.join(dataDir, 'readmodel.sqlite'), readonly: true });
      try {
        const fitRow = await readModel.get('clv_fit', { fitted_at: record.fittedAt });
        expect(fitRow).toMatchObject({ observation_end: '1997-09-30', customers: 2357, repeat_buyers: 946 });
        const counts = await readModel.aggregate('clv_customers', {
          groupBy: ['clv_months'],
          measures: [{ as: 'customers', fn: 'count' }],
        });
        expect(counts).toEqual([{ clv_months: 12, customers: 2357 }]);
        const paper = await readModel.get('clv_customers', { customer_id: '00004' });
        expect(paper).toMatchObject({ frequency: 2, fitted_at: record.fittedAt });
        expect(Number(paper!.p_alive)).toBeCloseTo(0.7266, 3);
      } finally {
        await readModel.close();
      }
    },
  );

  it('fit writes into the configured read-model store: with CRM_LEDGER_READ_MODEL_STORE=postgres, PostgreSQL', async () => {
    const dataDir = path.join(root, 'pg');
    const schema = `clv_e2e_${randomBytes(4).toString('hex')}`;
    const url = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const env = {
      ...process.env,
      CRM_LEDGER_READ_MODEL_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: url,
      CRM_LEDGER_POSTGRES_SCHEMA: schema,
    };
    const sample = path.resolve(import.meta.dirname, '../../../../examples/cdnow-sample.txt');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const imported = await run(['import', '--format', 'cdnow-sample', sample, '--data-dir', dataDir], env);
      expect(imported.code, imported.stderr).toBe(0);
      const fit = await run(['clv', 'fit', '--data-dir', dataDir], env);
      expect(fit.code, fit.stderr).toBe(0);
      expect(fit.stderr).toContain(`clv_customers of PostgreSQL schema ${schema}`);
      const record = JSON.parse(fit.stdout) as { fittedAt: string; bgNbd: { customers: number } };
      const rows = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${schema}.clv_customers WHERE fitted_at = $1`,
        [record.fittedAt],
      );
      expect(Number(rows.rows[0]!.n)).toBe(record.bgNbd.customers);
      expect(existsSync(path.join(dataDir, 'readmodel.sqlite'))).toBe(false);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${schema}__rebuild CASCADE`);
      await client.end();
    }
  }, 120_000);
});
