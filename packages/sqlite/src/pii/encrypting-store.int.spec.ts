import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore } from '@crm-ledger/core';
import { customerStream, validateEvent } from '@crm-ledger/events';
import { describeEventStoreConformance, readEverything } from '@crm-ledger/store-conformance';
import { encryptingEventStore, PiiVault, startShredder } from '@crm-ledger/pii';
import { aMasterKey, anErasure, leaks, PERSON, personalHistory, tempDir } from '@crm-ledger/pii/testing';
import { openSqliteEventStore } from '../event-store/index.js';
import { openSqliteKeyStore, type SqliteKeyStore } from '../key-store.js';

// The decorator keeps every promise of the port (it only rewrites personal fields, which the suite's events lack).
describeEventStoreConformance('SQLite file behind the encrypting decorator', ({ clock }) => {
  const t = tempDir('crm-pii-conformance-');
  const file = path.join(t.dir, 'ledger.sqlite');
  const keys = openSqliteKeyStore({ file: path.join(t.dir, 'keys.db'), masterKey: aMasterKey() });
  const vault = new PiiVault(keys);
  const wrap = (s: EventStore) => encryptingEventStore(s, vault, { validate: true });
  const store = wrap(openSqliteEventStore({ file, synchronous: 'normal', clock }));
  return Promise.resolve({
    store,
    openSecond: () => Promise.resolve(wrap(openSqliteEventStore({ file, synchronous: 'normal', clock }))),
    // the same vault (same customer keys): deterministic encryption stores the same bytes in the reference
    decorateReference: (reference) => encryptingEventStore(reference, vault, { validate: true }),
    readBack: async (event) => {
      const r = await vault.reader().decrypt(event);
      if (E.isLeft(r)) throw new Error(r.left.message);
      return r.right.event;
    },
    cleanup: async () => {
      await store.close();
      await keys.close();
      t.remove();
    },
  });
});

interface Ledger {
  dir: string;
  ledgerFile: string;
  inner: EventStore;
  store: EventStore;
  keys: SqliteKeyStore;
  vault: PiiVault;
  close: () => Promise<void>;
}

function openLedger(): Ledger {
  const t = tempDir();
  const ledgerFile = path.join(t.dir, 'ledger.sqlite');
  const inner = openSqliteEventStore({ file: ledgerFile, synchronous: 'normal' });
  const keys = openSqliteKeyStore({ file: path.join(t.dir, 'keys.db'), masterKey: aMasterKey() });
  const vault = new PiiVault(keys);
  const store = encryptingEventStore(inner, vault, { validate: true });
  return {
    dir: t.dir,
    ledgerFile,
    inner,
    store,
    keys,
    vault,
    close: async () => {
      await store.close();
      await keys.close();
      t.remove();
    },
  };
}

const fileBytes = (file: string) =>
  Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));

describe('encrypting event store (real SQLite ledger and key store files)', () => {
  const open: Ledger[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close();
  });
  const ledger = () => {
    const l = openLedger();
    open.push(l);
    return l;
  };

  it('stores only ciphertext of personal fields, still valid against the catalogue, and decrypts at the edge', async () => {
    const l = ledger();
    const events = personalHistory('c-1');
    expect(E.isRight(await l.store.append(customerStream('c-1'), events))).toBe(true);
    expect(leaks(fileBytes(l.ledgerFile))).toEqual([]);
    const stored = await readEverything(l.store);
    expect(stored.map((s) => E.isRight(validateEvent(s.event)))).toEqual(events.map(() => true));
    const registered = stored[0]!.event.data as Record<string, unknown>;
    expect(registered.name).toMatch(/^enc:v1:/);
    expect(registered.segment).toBe('B2C');
    const reader = l.vault.reader();
    const decrypted = await Promise.all(stored.map((s) => reader.decrypt(s.event)));
    expect(decrypted.map((d) => (E.isRight(d) ? d.right.event : d.left))).toEqual(events);
  });

  it('a second append of the same events (a retry) is an idempotent duplicate: the encryption is deterministic', async () => {
    const l = ledger();
    const events = personalHistory('c-2');
    const first = await l.store.append(customerStream('c-2'), events);
    const again = await l.store.append(customerStream('c-2'), events, { expectedRevision: 'no_stream' });
    expect(E.isRight(first) && first.right.duplicate).toBe(false);
    expect(E.isRight(again) && again.right.duplicate).toBe(true);
    expect((await readEverything(l.store)).length).toBe(events.length);
  });

  it('validates the plaintext before encrypting: too long a comment is refused, nothing written', async () => {
    const l = ledger();
    const [registered] = personalHistory('c-3');
    const bad = { ...registered!, data: { ...(registered!.data as object), name: 'x'.repeat(201) } };
    const r = await l.store.append(customerStream('c-3'), [bad]);
    expect(E.isLeft(r) && r.left.type).toBe('InvalidAppend');
    expect(E.isLeft(r) && r.left.type === 'InvalidAppend' && r.left.issues?.[0]?.path).toEqual([
      'data',
      'name',
    ]);
    expect(await l.store.headPosition()).toBe(0);
    expect(E.isLeft(await l.keys.get('c-3'))).toBe(true); // no key made for nothing
  });

  it('refuses a value that looks encrypted but is not this customer’s ciphertext for this event', async () => {
    const l = ledger();
    const [a] = personalHistory('c-4');
    const [b] = personalHistory('c-5');
    await l.store.append(customerStream('c-4'), [a!]);
    const stolen = ((await readEverything(l.store))[0]!.event.data as { name: string }).name;
    const r = await l.store.append(customerStream('c-5'), [
      { ...b!, data: { ...(b!.data as object), name: stolen } },
    ]);
    expect(E.isLeft(r) && r.left.type === 'InvalidAppend' && r.left.message).toMatch(
      /data\.name looks encrypted/,
    );
  });

  it('erasure: the key is destroyed after the append, personal fields read as null, later events are CustomerGone', async () => {
    const l = ledger();
    const events = personalHistory('c-6');
    await l.store.append(customerStream('c-6'), events);
    const erasure = anErasure('c-6');
    expect(E.isRight(await l.store.append(customerStream('c-6'), [erasure]))).toBe(true);
    expect(E.isLeft(await l.keys.get('c-6')) && (await l.keys.get('c-6'))).toMatchObject(
      E.left({ type: 'KeyDestroyed' }),
    );
    const reader = l.vault.reader();
    const registered = await reader.decrypt((await readEverything(l.store))[0]!.event);
    expect(E.isRight(registered) && registered.right).toMatchObject({
      erased: true,
      event: { data: { name: null, email: null, phone: null, segment: 'B2C' } },
    });
    // a retry of the erasure is still a duplicate; new facts about the customer are refused
    const retry = await l.store.append(customerStream('c-6'), [erasure]);
    expect(E.isRight(retry) && retry.right.duplicate).toBe(true);
    // a re-run import or seed of events already stored is still a duplicate (compared by id)
    const rerun = await l.store.append(customerStream('c-6'), events);
    expect(E.isRight(rerun) && rerun.right).toMatchObject({ duplicate: true, positions: [1, 2, 3, 4, 5, 6] });
    const late = personalHistory('c-6')[1]!; // a purchase: no personal field at all
    expect(await l.store.append(customerStream('c-6'), [late])).toEqual(
      E.left({ type: 'CustomerGone', customerId: 'c-6', streamName: customerStream('c-6') }),
    );
    const lateProfile = { ...events[0]!, eventId: '11111111-2222-4333-8444-555555555555' };
    expect(E.isLeft(await l.store.append(customerStream('c-6'), [lateProfile]))).toBe(true);
    // the stored bytes never changed: the ledger holds the same ciphertext as before
    expect(leaks(fileBytes(l.ledgerFile))).toEqual([]);
    expect(PERSON.name.length).toBeGreaterThan(0);
  });
});

describe('shredder (a consumer of the log)', () => {
  it('destroys the key of an erasure appended while no key destruction ran (crash between append and destroy)', async () => {
    const l = openLedger();
    const abort = new AbortController();
    try {
      await l.store.append(customerStream('c-7'), personalHistory('c-7'));
      await l.store.append(customerStream('c-8'), personalHistory('c-8'));
      // appended to the undecorated store: as if the process died right after the append was durable
      await l.inner.append(customerStream('c-7'), [anErasure('c-7')]);
      expect(E.isRight(await l.keys.get('c-7'))).toBe(true);
      const logger = {
        info: () => undefined,
        debug: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      };
      const shredder = await startShredder({ store: l.store, keys: l.keys, logger, signal: abort.signal });
      // caught up before it resolved
      expect(await l.keys.get('c-7')).toMatchObject(E.left({ type: 'KeyDestroyed' }));
      expect(E.isRight(await l.keys.get('c-8'))).toBe(true);
      expect(await l.keys.loadCheckpoint('shredder')).toBe(await l.store.headPosition());
      // live: another writer's erasure
      await l.inner.append(customerStream('c-8'), [anErasure('c-8')]);
      const until = Date.now() + 10_000;
      while (E.isRight(await l.keys.get('c-8')) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      expect(await l.keys.get('c-8')).toMatchObject(E.left({ type: 'KeyDestroyed' }));
      abort.abort();
      await shredder.done;
    } finally {
      abort.abort();
      await l.close();
    }
  });
});
