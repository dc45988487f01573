import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerDigest } from '@crm-ledger/core';
import { openSqliteDigestStore, openSqliteEventStore } from './index.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-digests-'));
  file = path.join(dir, 'ledger.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const digest = (number: number, position: number): LedgerDigest => ({
  number,
  position,
  count: position,
  digest: String(number % 10).repeat(64),
  recordedAt: '2025-01-01T00:00:00.000Z',
});

describe('SQLite digest store', () => {
  it('keeps digests in the ledger file beside the events, across reopen, in order', async () => {
    const store = openSqliteEventStore({ file });
    const digests = openSqliteDigestStore(file);
    expect(await digests.last()).toBeUndefined();
    await digests.record(digest(1, 10));
    await digests.record(digest(2, 20));
    await digests.close();
    await store.close();
    const again = openSqliteDigestStore(file);
    expect(await again.all()).toEqual([digest(1, 10), digest(2, 20)]);
    expect(await again.last()).toEqual(digest(2, 20));
    await again.close();
  });

  it('refuses a digest whose number or position does not follow the last one, and keeps nothing of it', async () => {
    const digests = openSqliteDigestStore(file);
    await digests.record(digest(1, 10));
    await expect(digests.record(digest(3, 30))).rejects.toThrow(/does not follow digest 1/);
    await expect(digests.record(digest(2, 10))).rejects.toThrow(/does not follow/);
    expect(await digests.all()).toEqual([digest(1, 10)]);
    await digests.close();
  });
});
