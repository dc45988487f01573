import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openEventStoreDbStore } from './eventstoredb-event-store.js';
import { registered } from './test-events.js';

// Invalid requests are refused before any call to the server: no server is needed to check that.
const store = openEventStoreDbStore({
  connectionString: 'esdb://127.0.0.1:1?tls=false',
  maxAppendSize: 2_000,
});
afterAll(() => store.close());

const refused = async (p: ReturnType<typeof store.append>) => {
  const r = await p;
  return E.isLeft(r) ? r.left : undefined;
};

describe('appends refused before reaching EventStoreDB', () => {
  it('an empty batch, a bad stream name, a bad expected revision', async () => {
    expect(await refused(store.append('customer-c1', []))).toMatchObject({
      type: 'InvalidAppend',
      message: /at least one/,
    });
    expect(await refused(store.append('$all', [registered('c1')]))).toMatchObject({ type: 'InvalidAppend' });
    expect(
      await refused(store.append('customer-c1', [registered('c1')], { expectedRevision: -2 as never })),
    ).toMatchObject({ type: 'InvalidAppend', message: /expectedRevision/ });
  });

  it('an invalid envelope or data, with the index and the issues', async () => {
    const bad = { ...registered('c1', 2), data: { segment: 'B2X', acquisitionChannel: 'referral' } };
    expect(await refused(store.append('customer-c1', [registered('c1'), bad]))).toMatchObject({
      type: 'InvalidAppend',
      index: 1,
      issues: [expect.objectContaining({ path: ['data', 'segment'] })],
    });
  });

  it("an event in another customer's stream, a repeated id, a stream outside the ledger prefixes", async () => {
    expect(await refused(store.append('customer-c2', [registered('c1')]))).toMatchObject({
      index: 0,
      message: /belongs to customer 'c1'/,
    });
    expect(await refused(store.append('customer-c1', [registered('c1'), registered('c1')]))).toMatchObject({
      index: 1,
      message: /repeats eventId/,
    });
    expect(await refused(store.append('orders-1', [registered('c1')]))).toMatchObject({
      message: /does not start with customer-/,
    });
  });

  it('a batch over the maximum append size, rather than a silent split', async () => {
    const many = Array.from({ length: 20 }, (_, i) => registered('c1', i + 1));
    expect(await refused(store.append('customer-c1', many))).toMatchObject({
      type: 'InvalidAppend',
      message: /over EventStoreDB's maximum append size of 2000/,
    });
  });
});

describe('envelope-only validation still refuses what JSON cannot carry', () => {
  const loose = openEventStoreDbStore({
    connectionString: 'esdb://127.0.0.1:1?tls=false',
    validation: 'envelope',
  });
  afterAll(() => loose.close());

  it('a bigint or a cycle in data is an InvalidAppend, not a throw', async () => {
    const cyclic: Record<string, unknown> = { segment: 'B2C' };
    cyclic.self = cyclic;
    for (const data of [{ n: 10n }, cyclic, { f: () => 1 }]) {
      const r = await loose.append('customer-c1', [{ ...registered('c1'), data }]);
      expect(E.isLeft(r) && r.left).toMatchObject({ type: 'InvalidAppend', index: 0, message: /not JSON/ });
    }
  });

  it('refuses a namespace that is not a stream-name prefix', () => {
    expect(() =>
      openEventStoreDbStore({ connectionString: 'esdb://x:1?tls=false', namespace: 'a b' }),
    ).toThrow(/namespace/);
  });
});
