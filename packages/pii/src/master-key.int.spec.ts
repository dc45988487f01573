import { chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMasterKey, MASTER_KEY_FILE } from './master-key.js';
import { tempDir } from './test-support.js';

describe('master key', () => {
  const dirs: (() => void)[] = [];
  afterEach(() => dirs.splice(0).forEach((r) => r()));
  const dir = () => {
    const t = tempDir();
    dirs.push(t.remove);
    return t.dir;
  };

  it('is created once in the data directory with mode 0600, then read back', () => {
    const d = dir();
    const first = loadMasterKey({ dataDir: d });
    expect(E.isRight(first) && first.right.source).toBe('new file');
    const file = path.join(d, MASTER_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadMasterKey({ dataDir: d });
    expect(E.isRight(again) && again.right.source).toBe('file');
    expect(E.isRight(first) && E.isRight(again) && first.right.key.equals(again.right.key)).toBe(true);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('refuses a file others can read', () => {
    const d = dir();
    loadMasterKey({ dataDir: d });
    chmodSync(path.join(d, MASTER_KEY_FILE), 0o644);
    const r = loadMasterKey({ dataDir: d });
    expect(E.isLeft(r) && r.left.message).toMatch(/readable by others.*chmod 600/);
  });

  it('takes CRM_LEDGER_MASTER_KEY when set, and says what is wrong with a bad one', () => {
    const d = dir();
    const key = Buffer.alloc(32, 7).toString('base64');
    const r = loadMasterKey({ dataDir: d, fromEnvironment: key });
    expect(E.isRight(r) && r.right.source).toBe('environment');
    const short = loadMasterKey({ dataDir: d, fromEnvironment: Buffer.alloc(16).toString('base64') });
    expect(E.isLeft(short) && short.left.message).toBe(
      'CRM_LEDGER_MASTER_KEY: must be base64 of 32 bytes, got 16 bytes',
    );
    const junk = loadMasterKey({ dataDir: d, fromEnvironment: 'not base64!' });
    expect(E.isLeft(junk) && junk.left.message).toBe('CRM_LEDGER_MASTER_KEY: must be base64 of 32 bytes');
  });
});
