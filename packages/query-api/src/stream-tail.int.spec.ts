import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { streamLength, streamTail } from './stream-tail.js';

const dir = mkdtempSync(path.join(tmpdir(), 'query-tail-'));
const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const purchase = (i: number) => ({
  eventId: randomUUID(),
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId: 'tail',
  occurredAt: '2024-01-01T00:00:00.000Z',
  source: 'tail-spec',
  data: { orderId: `o-${i}`, amount: { amountMinor: 100 + i, currency: 'EUR' } },
});

describe('stream length and tail without reading the stream (real SQLite file)', () => {
  it('finds the length of streams of every size and returns the last events in order', async () => {
    expect(await streamLength(store, 'customer-tail')).toBe(0);
    expect(await streamTail(store, 'customer-tail', 5)).toEqual([]);
    let n = 0;
    for (const size of [1, 1, 2, 60, 1000, 1]) {
      const r = await store.append(
        'customer-tail',
        Array.from({ length: size }, () => purchase(n++)),
      );
      expect(E.isRight(r)).toBe(true);
      expect(await streamLength(store, 'customer-tail')).toBe(n);
    }
    const tail = await streamTail(store, 'customer-tail', 50);
    expect(tail.map((s) => s.revision)).toEqual(Array.from({ length: 50 }, (_, i) => n - 50 + i));
    expect((await streamTail(store, 'customer-tail', 10_000)).length).toBe(n);
  });
});
