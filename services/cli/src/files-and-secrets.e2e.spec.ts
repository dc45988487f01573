import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Files and secrets (docs/security.md, docs/privacy.md): the CLI as a process under umask 022, as a shell would
 * leave it. The data directory ends 0700 and every file in it 0600; exports are 0600 even onto an existing file;
 * the production profile refuses a master key in the data directory; a missing master key is never regenerated
 * once customer keys exist; the master key rotates.
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-files-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NAME = 'Wilhelmina Fossbender';

/** Runs the CLI under umask 022 (the usual shell default). */
function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', 'umask 022; exec "$0" "$@"', process.execPath, main, ...args],
      { timeout: 60_000, env: { ...process.env, CRM_LEDGER_MASTER_KEY: '', ...env } },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

function importFile(): string {
  const file = path.join(root, `${randomUUID()}.ndjson`);
  writeFileSync(
    file,
    JSON.stringify({
      eventId: randomUUID(),
      type: 'CustomerRegistered',
      schemaVersion: 1,
      customerId: 'files-c1',
      occurredAt: '2024-01-01T00:00:00.000Z',
      source: 'files-e2e',
      data: { segment: 'B2C', acquisitionChannel: 'direct', name: NAME, email: 'wf@files-test.example' },
    }) + '\n',
  );
  return file;
}

const modeOf = (p: string): number => statSync(p).mode & 0o777;

/** Every file and directory below `dir` with its mode. */
function modes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      out[path.relative(dir, p)] = modeOf(p);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe('files and secrets (the CLI under umask 022)', () => {
  it('keeps the data directory 0700 and every file in it 0600, also an existing open directory', async () => {
    const dataDir = path.join(root, 'data-modes');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(path.join(dataDir, 'notes.txt'), 'left by an operator', { mode: 0o644 });
    chmodSync(path.join(dataDir, 'notes.txt'), 0o644);
    expect((await run(['import', importFile(), '--data-dir', dataDir])).code).toBe(0);

    const child = spawn(
      '/bin/sh',
      [
        '-c',
        'umask 022; exec "$0" "$@"',
        process.execPath,
        main,
        'start',
        '--port',
        '0',
        '--data-dir',
        dataDir,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CRM_LEDGER_MASTER_KEY: '' },
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`start exited with ${code}`)));
        createInterface({ input: child.stdout }).on('line', (l) => {
          if (/listening on/.test(l)) resolve();
        });
      });
      // while running: the -wal and -shm files exist too
      const all = modes(dataDir);
      expect(Object.keys(all)).toEqual(
        expect.arrayContaining([
          'ledger.sqlite',
          'ledger.sqlite-wal',
          'readmodel.sqlite',
          'keys.db',
          'auth.sqlite',
          'master.key',
          'admin.key',
          'notes.txt',
        ]),
      );
      for (const [name, mode] of Object.entries(all))
        expect(mode.toString(8), name).toBe(statSync(path.join(dataDir, name)).isDirectory() ? '700' : '600');
      expect(modeOf(dataDir).toString(8)).toBe('700');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 90_000);

  it('writes exports 0600, also over an existing 0644 file', async () => {
    const dataDir = path.join(root, 'data-export');
    expect((await run(['import', importFile(), '--data-dir', dataDir])).code).toBe(0);
    const fresh = path.join(root, 'fresh-export.ndjson');
    const existing = path.join(root, 'existing-export.ndjson');
    writeFileSync(existing, 'old\n', { mode: 0o644 });
    chmodSync(existing, 0o644);
    for (const out of [fresh, existing]) {
      const r = await run(['export', '--data-dir', dataDir, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(modeOf(out).toString(8), out).toBe('600');
    }
  }, 60_000);

  it('production profile: refuses a master key in the data directory, takes one outside it', async () => {
    const dataDir = path.join(root, 'data-prod');
    const refused = await run(['import', importFile(), '--data-dir', dataDir], {
      CRM_LEDGER_PROFILE: 'production',
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('production profile refuses a master key inside the data directory');
    expect(existsSync(path.join(dataDir, 'master.key'))).toBe(false);
    expect(existsSync(path.join(dataDir, 'ledger.sqlite'))).toBe(false);

    const secrets = path.join(root, 'secrets');
    const ok = await run(['import', importFile(), '--data-dir', dataDir], {
      CRM_LEDGER_PROFILE: 'production',
      CRM_LEDGER_MASTER_KEY_FILE: path.join(secrets, 'master.key'),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(modeOf(path.join(secrets, 'master.key')).toString(8)).toBe('600');
    expect(existsSync(path.join(dataDir, 'master.key'))).toBe(false);
  }, 60_000);

  it('never regenerates a missing master key once customer keys exist', async () => {
    const dataDir = path.join(root, 'data-missing');
    expect((await run(['import', importFile(), '--data-dir', dataDir])).code).toBe(0);
    rmSync(path.join(dataDir, 'master.key'));
    const r = await run(['export', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/master key .*master\.key is missing .* never regenerated/);
    expect(existsSync(path.join(dataDir, 'master.key'))).toBe(false);
  }, 60_000);

  it('rotates the master key: customer keys re-wrapped, only the new key opens them, data still readable', async () => {
    const dataDir = path.join(root, 'data-rotate');
    expect((await run(['import', importFile(), '--data-dir', dataDir])).code).toBe(0);
    const next = path.join(root, 'vault', 'master-2.key');
    const rotated = await run([
      'master-key',
      'rotate',
      '--data-dir',
      dataDir,
      '--new-key-file',
      next,
      '--generate',
    ]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('re-wrapped 1 customer keys');
    expect(modeOf(next).toString(8)).toBe('600');

    const withOld = await run(['export', '--data-dir', dataDir]);
    expect(withOld.code).toBe(2);
    expect(withOld.stderr).toContain('another master key');
    const withNew = await run(['export', '--data-dir', dataDir], { CRM_LEDGER_MASTER_KEY_FILE: next });
    expect(withNew.code, withNew.stderr).toBe(0);
    expect(withNew.stdout).toContain(NAME);
  }, 60_000);
});
