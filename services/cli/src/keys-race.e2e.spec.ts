import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Regression: with keys in a JSON file read-modified-written without a lock, a `keys revoke` racing `keys create`
 * printed "revoked" and the key stayed active (the create wrote back the list it had read before the revoke).
 * Keys now live in a SQLite table, each change one transaction.
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const dataDir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-keys-race-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const run = (args: string[]): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [main, ...args, '--data-dir', dataDir], { timeout: 60_000 }, (error, stdout) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout }),
    );
  });

describe('keys create and revoke at the same time (CLI processes, one data directory)', () => {
  it('loses neither a revocation nor a created key', async () => {
    for (let round = 0; round < 2; round++) {
      const victim = (
        await run(['keys', 'create', '--name', `victim-${round}`, '--scopes', 'read'])
      ).stdout.trim();
      const victimId = victim.slice(5, 17);
      const results = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => run(['keys', 'create', '--name', `r${round}-k${i}`])),
        run(['keys', 'revoke', victimId]),
      ]);
      expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
      expect(results.at(-1)!.stdout).toBe(`revoked ${victimId}\n`);
      const list = JSON.parse((await run(['keys', 'list', '--json'])).stdout) as {
        id: string;
        name: string;
        revokedAt?: string;
      }[];
      expect(list.find((k) => k.id === victimId)?.revokedAt).toEqual(expect.any(String));
      for (const r of results.slice(0, 4))
        expect(list.some((k) => k.id === r.stdout.trim().slice(5, 17))).toBe(true);
    }
  }, 120_000);
});
