import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const aad = (customerId: string, keyId: string) =>
  Buffer.from(`crm-ledger customer key v1\0${customerId}\0${keyId}`);

/** Wraps a data key with the master key (AES-256-GCM, random IV): IV(12) ‖ ciphertext(32) ‖ tag(16). */
export function wrapKey(master: Buffer, customerId: string, keyId: string, key: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(aad(customerId, keyId));
  const body = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Unwraps a data key; throws when the master key or the binding (customer, key id) is wrong. */
export function unwrapKey(master: Buffer, customerId: string, keyId: string, wrapped: Buffer): Buffer {
  if (wrapped.length !== 60)
    throw new Error(`wrapped key of ${customerId}: ${wrapped.length} bytes, expected 60`);
  const decipher = createDecipheriv('aes-256-gcm', master, wrapped.subarray(0, 12));
  decipher.setAAD(aad(customerId, keyId));
  decipher.setAuthTag(wrapped.subarray(44));
  return Buffer.concat([decipher.update(wrapped.subarray(12, 44)), decipher.final()]);
}

/** A new data key and its id. */
export function newDataKey(): { keyId: string; key: Buffer } {
  return { keyId: randomBytes(8).toString('hex'), key: randomBytes(32) };
}
