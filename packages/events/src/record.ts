/**
 * Dictionaries keyed by strings that come from outside (customer, ticket, subscription, criterion ids,
 * touchpoint names...). A plain object literal inherits `Object.prototype`, so a key such as `constructor`,
 * `toString` or `__proto__` finds something that is not there (or sets the prototype): a ticket called
 * `constructor` would read as "opened twice". These records have no prototype, so every string is an
 * ordinary key. ESLint (`crm/no-plain-dictionary`, eslint.config.js) refuses `{}` and `Object.fromEntries`
 * where a string-keyed dictionary is expected.
 */
export type Dict<T> = Record<string, T>;

/** An empty dictionary without prototype: every string, `__proto__` included, is an ordinary key. */
export function emptyRecord<T>(): Dict<T> {
  return Object.create(null) as Dict<T>;
}

/** A dictionary without prototype holding the given entries (`__proto__` is kept as an ordinary key). */
export function recordFrom<T>(entries: Iterable<readonly [string, T]>): Dict<T> {
  const out = emptyRecord<T>();
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** Own property only: `undefined` unless `key` was set on `record` (safe on plain objects too). */
export function own<T>(record: Readonly<Dict<T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function nullProto(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.assign(Object.create(null) as object, value);
}

/**
 * `JSON.parse` whose every object comes out without prototype: for state decoded from JSON (projection
 * states, cursors) that is then read with client-supplied keys.
 */
export function parseJsonRecords(text: string): unknown {
  return JSON.parse(text, nullProto) as unknown;
}
