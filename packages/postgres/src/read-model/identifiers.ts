/** Table, column, index and schema names: plain SQL identifiers, the same in every dialect. */
const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
/** PostgreSQL truncates longer identifiers (silently, with a NOTICE): refuse them instead. */
const MAX_IDENTIFIER_LENGTH = 63;

export function assertIdentifier(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name) || name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(`${what} '${String(name)}' must match [a-z][a-z0-9_]* and be at most 63 characters`);
  }
}

/** Double-quoted identifier (names are validated first, so quoting is belt and braces). */
export function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"` */
export function qq(schema: string, name: string): string {
  return `${q(schema)}.${q(name)}`;
}

/** The schema that holds the shadow tables of rebuilds in progress, beside the deployment's schema. */
export function shadowSchemaOf(schema: string): string {
  return `${schema}__rebuild`;
}
