import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { aMasterKey, tempDir } from '@crm-ledger/pii/testing';
import { openSqliteKeyStore } from './key-store.js';

describe('the SQLite key store overwrites a destroyed key on disk', () => {
  it('neither keys.db nor its WAL holds the wrapped key after destroy (secure_delete + checkpoint TRUNCATE)', async () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'keys.db');
      const keys = openSqliteKeyStore({ file, masterKey: aMasterKey() });
      for (let i = 0; i < 50; i++) await keys.getOrCreate(`other-${i}`);
      await keys.getOrCreate('victim');
      const peek = new Database(file, { readonly: true });
      const wrapped = peek
        .prepare<[string], { wrapped: Buffer }>('SELECT wrapped FROM customer_keys WHERE customer_id = ?')
        .get('victim')!.wrapped;
      peek.close();
      const bytes = () =>
        Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
      expect(bytes().includes(wrapped)).toBe(true); // the probe can see it before
      expect(E.isRight(await keys.destroy('victim', '2025-01-01T00:00:00.000Z'))).toBe(true);
      expect(bytes().includes(wrapped)).toBe(false);
      expect(bytes().includes(Buffer.from('victim'))).toBe(true); // the tombstone stays
      await keys.close();
      expect(bytes().includes(wrapped)).toBe(false);
    } finally {
      t.remove();
    }
  });
});
