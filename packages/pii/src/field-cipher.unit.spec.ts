import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EncryptedField } from '@crm-ledger/events';
import { decryptField, encryptField, fieldKeys, keyIdOf } from './field-cipher.js';

const key = { customerId: 'c-1', keyId: '0123456789abcdef', key: randomBytes(32) };
const keys = fieldKeys(key);
const EVENT = '9a1c3c70-2d3e-4b55-8f7a-1a2b3c4d5e6f';

describe('field cipher: AES-256-GCM with a synthetic IV', () => {
  it('round-trips a value and hides it', () => {
    const enc = encryptField(keys, EVENT, 'name', 'Zoë Quartermaine-Ødegaard');
    expect(enc).toMatch(/^enc:v1:0123456789abcdef:[A-Za-z0-9_-]+$/);
    expect(enc).not.toContain('Zo');
    expect(decryptField(keys, EVENT, 'name', enc)).toEqual({ value: 'Zoë Quartermaine-Ødegaard' });
    expect(keyIdOf(enc)).toBe('0123456789abcdef');
  });

  it('is deterministic per (event, field, plaintext): a retried append has the same bytes', () => {
    const a = encryptField(keys, EVENT, 'email', 'zoe@example.com');
    expect(encryptField(keys, EVENT, 'email', 'zoe@example.com')).toBe(a);
    expect(encryptField(keys, EVENT, 'email', 'zoe@example.org')).not.toBe(a);
    expect(encryptField(keys, EVENT, 'name', 'zoe@example.com')).not.toBe(a);
    expect(encryptField(keys, '1a1c3c70-2d3e-4b55-8f7a-1a2b3c4d5e6f', 'email', 'zoe@example.com')).not.toBe(
      a,
    );
  });

  it('a ciphertext moved to another event or field, tampered, or of another key does not decrypt', () => {
    const enc = encryptField(keys, EVENT, 'text', 'my complaint');
    expect(decryptField(keys, EVENT, 'comment', enc)).toBeUndefined();
    expect(decryptField(keys, '1a1c3c70-2d3e-4b55-8f7a-1a2b3c4d5e6f', 'text', enc)).toBeUndefined();
    // The third character from the end carries tag bits only (no base64 padding bits): change it to another one.
    const third = enc.at(-3);
    const flipped = enc.slice(0, -3) + (third === 'A' ? 'B' : 'A') + enc.slice(-2);
    expect(flipped).not.toBe(enc);
    expect(decryptField(keys, EVENT, 'text', flipped)).toBeUndefined();
    const other = fieldKeys({ ...key, key: randomBytes(32) });
    expect(decryptField(other, EVENT, 'text', enc)).toBeUndefined();
    expect(
      decryptField(fieldKeys({ ...key, keyId: 'ffffffffffffffff' }), EVENT, 'text', enc),
    ).toBeUndefined();
  });

  it('the ciphertext of the largest free text the catalogue accepts fits the catalogue bound', () => {
    const worst = '\u0001'.repeat(4000); // JSON escapes each as \u0001: 6 bytes
    expect(EncryptedField.safeParse(encryptField(keys, EVENT, 'text', worst)).success).toBe(true);
    const wide = '😀'.repeat(2000); // 4,000 UTF-16 units, 8,000 bytes
    expect(EncryptedField.safeParse(encryptField(keys, EVENT, 'text', wide)).success).toBe(true);
  });
});
