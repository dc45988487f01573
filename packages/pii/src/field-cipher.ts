import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { ENCRYPTED_FIELD_PREFIX } from '@crm-ledger/events';
import type { CustomerKey } from './key-store.js';

/** The two keys derived from a customer's data key: one encrypts, one makes the synthetic IVs. */
export interface FieldKeys {
  readonly keyId: string;
  readonly enc: Buffer;
  readonly mac: Buffer;
}

/** Both keys from one HKDF-SHA256 expansion of 64 bytes (one call: HKDF costs tens of µs in Node). */
export function fieldKeys(key: CustomerKey): FieldKeys {
  const okm = Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), 'crm-ledger pii field keys v1', 64));
  return { keyId: key.keyId, enc: okm.subarray(0, 32), mac: okm.subarray(32) };
}

const aad = (eventId: string, field: string, keyId: string) =>
  Buffer.from(`crm-ledger pii v1\0${eventId}\0${field}\0${keyId}`);

/**
 * Encrypts one personal field: AES-256-GCM with a synthetic IV = first 12 bytes of
 * HMAC-SHA256(mac key, eventId ‖ 0 ‖ field ‖ 0 ‖ plaintext). The same event encrypted twice gives the same
 * bytes, so a retried append is still a duplicate by content; an IV repeats only for the very same
 * (event, field, plaintext), which reveals nothing but that equality. The event id, field and key id are
 * authenticated data: a ciphertext moved to another event or field does not decrypt.
 * The plaintext is the field's JSON (so its type comes back as it went in).
 */
export function encryptField(keys: FieldKeys, eventId: string, field: string, value: unknown): string {
  const plaintext = Buffer.from(JSON.stringify(value), 'utf8');
  const iv = createHmac('sha256', keys.mac)
    .update(eventId)
    .update('\0')
    .update(field)
    .update('\0')
    .update(plaintext)
    .digest()
    .subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', keys.enc, iv);
  cipher.setAAD(aad(eventId, field, keys.keyId));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${ENCRYPTED_FIELD_PREFIX}${keys.keyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The key id an `enc:v1:` value names, or undefined when the value is not one. */
export function keyIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(ENCRYPTED_FIELD_PREFIX)) return undefined;
  const end = value.indexOf(':', ENCRYPTED_FIELD_PREFIX.length);
  return end < 0 ? undefined : value.slice(ENCRYPTED_FIELD_PREFIX.length, end);
}

export function isEncrypted(value: unknown): value is string {
  return keyIdOf(value) !== undefined;
}

/**
 * Decrypts one field. `undefined` when the value is not this key's ciphertext for this event and field
 * (another key id, tampered bytes, moved from another event).
 */
export function decryptField(
  keys: FieldKeys,
  eventId: string,
  field: string,
  value: string,
): { value: unknown } | undefined {
  if (keyIdOf(value) !== keys.keyId) return undefined;
  const raw = Buffer.from(value.slice(ENCRYPTED_FIELD_PREFIX.length + keys.keyId.length + 1), 'base64url');
  if (raw.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.enc, raw.subarray(0, 12));
    decipher.setAAD(aad(eventId, field, keys.keyId));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const plaintext = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    return { value: JSON.parse(plaintext.toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}
