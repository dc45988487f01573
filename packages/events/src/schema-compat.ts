import { recordFrom } from './record.js';
/**
 * The schema compatibility rule of docs/kafka.md, checked by `pnpm schemas:check` against docs/schemas/released:
 * a released version's JSON Schema is a contract. It may change only in its annotations (`title`, `description`,
 * `$comment`, `examples`); any other change (a field added, removed, renamed, made required or optional, a type,
 * pattern, bound or enum changed, a field's personal classification changed) needs a new version of the event.
 * A released version is never removed (events of that version stay on the topics for as long as they are kept).
 */
const ANNOTATIONS = new Set(['title', 'description', '$comment', 'examples']);

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value !== 'object' || value === null) return value;
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value)) if (!ANNOTATIONS.has(k)) out.set(k, strip(v));
  return recordFrom([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** JSON pointers where two (annotation-free) schemas differ. */
function differences(a: unknown, b: unknown, pointer = ''): string[] {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null) {
    return a === b ? [] : [pointer || '/'];
  }
  if (typeof a !== 'object') return a === b ? [] : [pointer || '/'];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [pointer || '/'];
    return a.flatMap((v, i) => differences(v, b[i], `${pointer}/${i}`));
  }
  const ra = new Map(Object.entries(a));
  const rb = new Map(Object.entries(b as object));
  const keys = [...new Set([...ra.keys(), ...rb.keys()])].sort();
  return keys.flatMap((k) =>
    differences(ra.get(k), rb.get(k), `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`),
  );
}

/**
 * Problems of the current schemas against the released ones, by file name (`<Type>.v<N>.schema.json`): a released
 * version missing, or changed beyond annotations. New versions and new event types are not problems.
 */
export function incompatibleChanges(
  released: ReadonlyMap<string, unknown>,
  current: ReadonlyMap<string, unknown>,
): string[] {
  const problems: string[] = [];
  for (const [file, schema] of [...released].sort(([a], [b]) => a.localeCompare(b))) {
    if (!file.endsWith('.schema.json')) continue;
    const now = current.get(file);
    if (now === undefined) {
      problems.push(`${file}: a released version was removed (old versions stay published)`);
      continue;
    }
    const diff = differences(strip(schema), strip(now));
    if (diff.length > 0) {
      problems.push(
        `${file}: changed incompatibly at ${diff.slice(0, 5).join(', ')}${diff.length > 5 ? ` (+${diff.length - 5} more)` : ''}: declare a new version of the event instead (docs/kafka.md, "Versioning")`,
      );
    }
  }
  return problems;
}
