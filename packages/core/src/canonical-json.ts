/** Keys and strings that JSON writes as they are: no quote, backslash, control or non-ASCII character. */
const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Canonical JSON in the spirit of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no whitespace,
 * numbers and strings as ECMAScript's JSON.stringify writes them. The same value always gives the same
 * bytes: used for idempotency checks (same id, same content) and for hash chains.
 * `undefined` members are dropped, as JSON.stringify does; non-finite numbers and non-JSON values are rejected.
 *
 * It sits on the append path: plain keys and strings skip JSON.stringify, and the parts are joined once at
 * the end rather than concatenated as they come (a concatenation leaves a tree of string fragments that
 * lives until SQLite flattens it at commit: measured 7.5 µs against 2.3 µs per event in the store).
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(PLAIN_STRING.test(value) ? '"' + value + '"' : JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          const item: unknown = value[i];
          if (item === undefined) out.push('null');
          else write(item, out);
        }
        out.push(']');
        return;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.length > 1) keys.sort();
      out.push('{');
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out.push((first ? '' : ',') + (PLAIN_KEY.test(k) ? '"' + k + '"' : JSON.stringify(k)) + ':');
        write(v, out);
        first = false;
      }
      out.push('}');
      return;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}
