import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  DigestFolder,
  GENESIS_LINK,
  fixedClock,
  type DigestStore,
  type LedgerDigest,
  type StoredEvent,
} from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { InMemoryEventStore, readEverything } from '@crm-ledger/store-conformance';
import { generateHistory } from '@crm-ledger/synthetic';
import { LedgerNotary } from './notary.js';
import { verifyLedger } from './verify.js';

/** A digest store in memory that keeps the rule of the port: numbers follow, positions increase. */
class MemoryDigests implements DigestStore {
  readonly rows: LedgerDigest[] = [];
  last = () => Promise.resolve(this.rows[this.rows.length - 1]);
  all = () => Promise.resolve([...this.rows]);
  record(d: LedgerDigest): Promise<void> {
    const last = this.rows[this.rows.length - 1];
    if (d.number !== (last?.number ?? 0) + 1 || d.position <= (last?.position ?? 0))
      return Promise.reject(new Error('out of order'));
    this.rows.push(d);
    return Promise.resolve();
  }
  close = () => Promise.resolve();
}

async function seeded(
  events: number,
  seed = 8,
  store = new InMemoryEventStore(fixedClock('2025-01-01T00:00:00.000Z', 1)),
): Promise<InMemoryEventStore> {
  for (const { customerId, events: history } of generateHistory({
    seed,
    customers: 12,
    targetEvents: events,
  })) {
    const r = await store.append(
      customerStream(`${seed}-${customerId}`),
      history.map((e) => ({
        ...e,
        customerId: `${seed}-${customerId}`,
        eventId: `${seed}${e.eventId.slice(String(seed).length)}`,
      })),
    );
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  }
  return store;
}

/** The digest of the first `n` events folded by hand: D_k = sha256(D_{k-1} ‖ links). */
function foldByHand(log: readonly StoredEvent[], every: number, n: number): string {
  let d = GENESIS_LINK;
  for (let start = 0; start < n; start += every) {
    const f = new DigestFolder(d);
    for (const e of log.slice(start, Math.min(start + every, n))) f.add(e.hash);
    d = f.seal();
  }
  return d;
}

describe('the notary', () => {
  it('records a digest every N events with position, cumulative count and time; the tail only when asked', async () => {
    const store = await seeded(500);
    const log = await readEverything(store);
    const digests = new MemoryDigests();
    const notary = new LedgerNotary({
      store,
      digests,
      every: 100,
      clock: fixedClock('2025-03-01T00:00:00.000Z'),
    });
    const full = await notary.notarise();
    expect(full.map((d) => d.count)).toEqual(
      Array.from({ length: Math.floor(log.length / 100) }, (_, i) => (i + 1) * 100),
    );
    expect(full.map((d) => d.position)).toEqual(full.map((d) => log[d.count - 1]!.globalPosition));
    expect(full[0]).toMatchObject({ number: 1, recordedAt: '2025-03-01T00:00:00.000Z' });
    const tail = await notary.notarise({ tail: true });
    expect(tail).toHaveLength(log.length % 100 === 0 ? 0 : 1);
    const last = digests.rows[digests.rows.length - 1]!;
    expect(last.count).toBe(log.length);
    expect(last.digest).toBe(foldByHand(log, 100, log.length));
    expect(await notary.notarise({ tail: true })).toEqual([]);
  });

  it('resumes from its last digest: the digests are those of one run over the whole log', async () => {
    const store = await seeded(400);
    const resumed = new MemoryDigests();
    const notary = new LedgerNotary({ store, digests: resumed, every: 50 });
    await notary.notarise();
    await seeded(300, 9, store);
    await notary.notarise();
    const once = new MemoryDigests();
    await new LedgerNotary({ store, digests: once, every: 50 }).notarise();
    expect(resumed.rows.map((d) => [d.position, d.count, d.digest])).toEqual(
      once.rows.map((d) => [d.position, d.count, d.digest]),
    );
    const report = await verifyLedger(store, { digests: resumed.rows });
    expect(report).toMatchObject({ ok: true, digests: resumed.rows.length });
  });

  it('refuses a batch size of events per digest that is not a positive whole number', async () => {
    const store = await seeded(10);
    expect(() => new LedgerNotary({ store, digests: new MemoryDigests(), every: 0 })).toThrow(RangeError);
  });
});
