import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { tallyPurchases } from './from-store.js';

const purchase = (customerId: string, at: string, amountMinor: number): RawEnvelope => ({
  eventId: randomUUID(),
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId,
  occurredAt: at,
  data: { orderId: randomUUID(), amount: { amountMinor, currency: 'USD' } },
});

describe('CLV purchase tally from the event store (real SQLite file)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clv-tally-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves voided purchases out, as if they had never been recorded; a void in another stream does not count', async () => {
    const store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
    const kept = purchase('c-1', '2024-01-01T00:00:00Z', 1_000);
    const wrong = purchase('c-1', '2024-01-02T00:00:00Z', 99_999);
    const other = purchase('c-2', '2024-01-03T00:00:00Z', 500);
    await store.append(customerStream('c-1'), [kept, wrong]);
    await store.append(customerStream('c-2'), [other]);
    const options = { observationEnd: '2024-12-31', currency: 'USD' };
    const before = await tallyPurchases(store, options);
    expect(E.isRight(before) && before.right.purchases).toBe(3);
    const voidOf = (customerId: string, target: RawEnvelope): RawEnvelope => ({
      eventId: randomUUID(),
      type: 'EventVoided',
      schemaVersion: 1,
      customerId,
      occurredAt: target.occurredAt,
      data: { eventId: target.eventId, reason: 'wrong amount' },
    });
    await store.append(customerStream('c-1'), [voidOf('c-1', wrong)]);
    // A void in c-1's stream naming c-2's purchase voids nothing (voids act in their own stream).
    await store.append(customerStream('c-1'), [voidOf('c-1', other)]);
    const after = await tallyPurchases(store, options);
    await store.close();
    expect(E.isRight(after) && after.right.purchases).toBe(2);
    expect(E.isRight(after) && Object.fromEntries(after.right.byCustomer)).toEqual({
      'c-1': { '2024-01-01': 1_000 },
      'c-2': { '2024-01-03': 500 },
    });
  });
});
