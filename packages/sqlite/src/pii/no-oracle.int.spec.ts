import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { encryptingEventStore, PiiVault } from '@crm-ledger/pii';
import { aMasterKey, PERSON, personalHistory, tempDir } from '@crm-ledger/pii/testing';
import { openSqliteEventStore } from '../event-store/index.js';
import { openSqliteKeyStore } from '../key-store.js';

/**
 * A writer that knows an event id must not learn whether a guessed personal value is the stored one: before, the
 * retry was compared by content (deterministic ciphertext), so a right guess answered duplicate and a wrong one
 * IdempotencyConflict.
 */
describe('no plaintext-guessing oracle through idempotent retries (real SQLite files)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const open = () => {
    const t = tempDir('crm-pii-oracle-');
    const keys = openSqliteKeyStore({ file: path.join(t.dir, 'keys.db'), masterKey: aMasterKey() });
    const vault = new PiiVault(keys);
    const store = encryptingEventStore(
      openSqliteEventStore({ file: path.join(t.dir, 'ledger.sqlite') }),
      vault,
      {
        validate: true,
      },
    );
    cleanups.push(async () => {
      await store.close();
      await keys.close();
      t.remove();
    });
    return { store, vault };
  };

  it('answers a right and a wrong guess of a personal field alike (duplicate), and stores neither', async () => {
    const { store, vault } = open();
    const [registered] = personalHistory('c-oracle');
    const stream = customerStream('c-oracle');
    const first = await store.append(stream, [registered!]);
    expect(E.isRight(first)).toBe(true);
    const withEmail = (email: string | undefined): RawEnvelope => {
      const data = { ...(registered!.data as Record<string, unknown>) };
      if (email === undefined) delete data['email'];
      else data['email'] = email;
      return { ...registered!, data };
    };
    const right = await store.append(stream, [withEmail(PERSON.email)]);
    const wrong = await store.append(stream, [withEmail('someone.else@example.org')]);
    const absent = await store.append(stream, [withEmail(undefined)]);
    expect(right).toEqual(E.right({ ...(E.isRight(first) ? first.right : {}), duplicate: true }));
    expect(wrong).toEqual(right);
    expect(absent).toEqual(right);
    // nothing changed: one event, the original e-mail
    const stored = await store.readStream(stream);
    expect(E.isRight(stored) && stored.right.length).toBe(1);
    const plain = await vault.reader().decrypt(E.isRight(stored) ? stored.right[0]!.event : registered!);
    expect(E.isRight(plain) && (plain.right.event.data as { email: string }).email).toBe(PERSON.email);
  });

  it('still refuses a retry whose non-personal content differs (409 idempotency conflict)', async () => {
    const { store } = open();
    const [registered] = personalHistory('c-oracle-2');
    const stream = customerStream('c-oracle-2');
    expect(E.isRight(await store.append(stream, [registered!]))).toBe(true);
    const changed = { ...registered!, data: { ...(registered!.data as object), segment: 'B2B' } };
    const r = await store.append(stream, [changed]);
    expect(E.isLeft(r) && r.left).toMatchObject({ type: 'IdempotencyConflict', reason: 'different_content' });
  });
});
