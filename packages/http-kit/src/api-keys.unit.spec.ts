import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { authenticate, generateApiKey, memoryApiKeyStore, sha256Hex } from './api-keys.js';

const now = '2024-01-01T00:00:00.000Z';

describe('API keys', () => {
  it('stores only the SHA-256 of a key and recognises the key', async () => {
    const { key, record } = generateApiKey('shop', ['append'], now);
    expect(key).toMatch(/^crml_[a-f0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(record.hash).toBe(sha256Hex(key));
    expect(JSON.stringify(record)).not.toContain(key.slice(18));
    const store = memoryApiKeyStore([record]);
    expect(await authenticate(store, key, 'append')).toEqual(E.right(record));
  });

  it('tells missing, unknown, tampered, revoked and under-scoped keys apart', async () => {
    const { key, record } = generateApiKey('reader', ['read'], now);
    const store = memoryApiKeyStore([record]);
    expect(await authenticate(store, undefined, 'read')).toEqual(E.left({ type: 'MissingKey' }));
    expect(await authenticate(store, 'nope', 'read')).toEqual(E.left({ type: 'UnknownKey' }));
    const tampered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect(await authenticate(store, tampered, 'read')).toEqual(E.left({ type: 'UnknownKey' }));
    expect(await authenticate(store, key, 'append')).toEqual(
      E.left({ type: 'MissingScope', scope: 'append', keyId: record.id }),
    );
    await store.revoke(record.id, now);
    expect(await authenticate(store, key, 'read')).toEqual(E.left({ type: 'UnknownKey' }));
  });

  it('lets admin keys do everything', async () => {
    const { key, record } = generateApiKey('root', ['admin'], now);
    const store = memoryApiKeyStore([record]);
    for (const scope of ['append', 'read', 'admin'] as const) {
      expect(E.isRight(await authenticate(store, key, scope))).toBe(true);
    }
  });
});
