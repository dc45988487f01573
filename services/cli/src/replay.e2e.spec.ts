import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/readmodel-sqlite';

/** Runs the built `crm-ledger` command as a child process. */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-replay-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

async function checkpoints(dataDir: string): Promise<Record<string, number>> {
  const rm = openSqliteReadModel({ file: path.join(dataDir, 'readmodel.sqlite'), readonly: true });
  try {
    const rows = await rm.sql({
      sqlite: "SELECT name, checkpoint FROM readmodel_projections WHERE target = 'live' ORDER BY name",
      postgres: '',
    });
    return Object.fromEntries(rows.map((r) => [String(r['name']), Number(r['checkpoint'])]));
  } finally {
    await rm.close();
  }
}

describe('crm-ledger replay', () => {
  const dataDir = path.join(root, 'data');

  it('rebuilds every view up to the head, then one view as of a position', async () => {
    const seeded = await run([
      'seed',
      '--data-dir',
      dataDir,
      '--customers',
      '20',
      '--sqlite-synchronous',
      'normal',
    ]);
    expect(seeded.code, seeded.stderr).toBe(0);
    const all = await run(['replay', '--data-dir', dataDir]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(
      /replayed \d+ events up to position (\d+) into service, success, experience, value/,
    );
    const head = Number(/up to position (\d+)/.exec(all.stdout)![1]);
    expect(await checkpoints(dataDir)).toEqual({
      experience: head,
      service: head,
      success: head,
      value: head,
    });

    // The same rebuild in this thread only (the default above used worker threads): the same checkpoints.
    const single = await run(['replay', '--data-dir', dataDir, '--threads', '1']);
    expect(single.code, single.stderr).toBe(0);
    expect(single.stdout).toContain(`up to position ${head} into service, success, experience, value`);

    const past = await run(['replay', '--data-dir', dataDir, '--projection', 'value', '--until', '100']);
    expect(past.code, past.stderr).toBe(0);
    expect(await checkpoints(dataDir)).toEqual({
      experience: head,
      service: head,
      success: head,
      value: 100,
    });
  });

  it('rejects a wrong --projection or --until with a usage error (exit 2)', async () => {
    const wrong = await run(['replay', '--data-dir', dataDir, '--projection', 'sales']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--projection');
    const until = await run(['replay', '--data-dir', dataDir, '--until', 'yesterday']);
    expect(until.code).toBe(2);
    expect(until.stderr).toContain('--until');
    const threads = await run(['replay', '--data-dir', dataDir, '--threads', '0']);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain('--threads');
  });
});
