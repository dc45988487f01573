import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTransientError, type LedgerDigest } from '@crm-ledger/core';
import { openSqliteDigestStore } from '@crm-ledger/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedDigestStore } from './notary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-notary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const digest = (number: number, position: number): LedgerDigest => ({
  number,
  position,
  count: position,
  digest: String(number).padStart(64, '0'),
  recordedAt: '2026-01-01T00:00:00.000Z',
});

describe('a digest store shared by several notaries (standalone projector replicas)', () => {
  it('a digest another notary recorded first is a transient failure; any other refusal stays permanent', async () => {
    const file = path.join(dir, 'ledger.sqlite');
    const first = openSqliteDigestStore(file);
    const second = sharedDigestStore(openSqliteDigestStore(file));
    try {
      await first.record(digest(1, 10));
      // the second notary read `last` before the first one recorded: it tries number 1 too
      const raced = await second.record(digest(1, 12)).catch((e: unknown) => e);
      expect(raced).toBeInstanceOf(Error);
      expect((raced as Error).message).toMatch(/recorded by another notary/);
      expect(isTransientError(raced)).toBe(true);
      // a gap is a bug (or a tampered table), not a race: not retried
      const gap = await second.record(digest(3, 30)).catch((e: unknown) => e);
      expect(isTransientError(gap)).toBe(false);
      await second.record(digest(2, 20));
      expect((await first.all()).map((d) => d.number)).toEqual([1, 2]);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
