/**
 * Deterministic signal ids: RFC 9562 UUID version 5 (SHA-1 of a namespace and a name), computed here in plain
 * TypeScript because the domain imports no `node:*` (the engine stays a pure function). The same rule, customer
 * and trigger always give the same id, which is the ledger's idempotency key: a replay or a retry appends
 * nothing new.
 */

/** The namespace of every signal id. Fixed forever: changing it would raise every signal again. */
export const SIGNAL_NAMESPACE = 'b8a3c0de-5d1e-4c6a-9f5e-16a1e7f00d16';

function utf8(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else {
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return out;
}

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** SHA-1 of bytes (FIPS 180-4), 20 bytes. */
export function sha1(bytes: readonly number[]): number[] {
  const ml = bytes.length * 8;
  const msg = [...bytes, 0x80];
  while (msg.length % 64 !== 56) msg.push(0);
  const hi = Math.floor(ml / 2 ** 32);
  for (const word of [hi, ml >>> 0])
    msg.push((word >>> 24) & 255, (word >>> 16) & 255, (word >>> 8) & 255, word & 255);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Array<number>(80).fill(0);
  for (let i = 0; i < msg.length; i += 64) {
    for (let t = 0; t < 16; t++)
      w[t] =
        (msg[i + 4 * t]! << 24) |
        (msg[i + 4 * t + 1]! << 16) |
        (msg[i + 4 * t + 2]! << 8) |
        msg[i + 4 * t + 3]!;
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!, 1);
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      const f =
        t < 20 ? (b & c) | (~b & d) : t < 40 ? b ^ c ^ d : t < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = t < 20 ? 0x5a827999 : t < 40 ? 0x6ed9eba1 : t < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const temp = (rotl(a, 5) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return [h0, h1, h2, h3, h4].flatMap((h) => [(h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255]);
}

const hex = (b: number): string => b.toString(16).padStart(2, '0');

/** UUID version 5 of `name` in `namespace` (RFC 9562 §5.5), lower case. */
export function uuidV5(name: string, namespace: string): string {
  const ns = namespace.replace(/-/g, '');
  const nsBytes = Array.from({ length: 16 }, (_, i) => parseInt(ns.slice(2 * i, 2 * i + 2), 16));
  const h = sha1([...nsBytes, ...utf8(name)]).slice(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const s = h.map(hex).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The id of a signal: its rule, its customer and what triggered it (e.g. the ticket and target, the silence's start). */
export function signalId(rule: string, customerId: string, trigger: string): string {
  return uuidV5(`${rule}\u0000${customerId}\u0000${trigger}`, SIGNAL_NAMESPACE);
}
