import { recordFrom } from './record.js';
import { type z } from 'zod';
import { classificationProblems, personalFields } from './classify.js';

export const AREAS = ['relationship', 'revenue', 'service', 'success', 'experience', 'signals'] as const;
export type Area = (typeof AREAS)[number];

/**
 * One step of lifting data of an older version to the next version, as data (published in docs/schemas/index.json
 * and docs/kafka.md, so consumers in any language apply the same rules):
 * - `default`: set `field` to `value` when it is absent;
 * - `rename`: move `from` to `to` (when present);
 * - `remove`: drop `field`.
 */
export type UpcastRule =
  | { readonly op: 'default'; readonly field: string; readonly value: unknown }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  | { readonly op: 'remove'; readonly field: string };

/** An older schema version of an event's data and the rules that lift it to the next version. */
export interface OlderVersion {
  readonly schema: z.ZodType;
  /** The rules to the next version, in order. */
  readonly rules: readonly UpcastRule[];
  /** Lifts data of this version to the next version's shape (applies `rules`). Pure; never fails on valid input. */
  readonly upcast: (data: never) => unknown;
}

/** Applies upcast rules to a data object (a copy; the input is not changed). */
export function applyUpcastRules(rules: readonly UpcastRule[], data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  // a Map keeps client-chosen field names away from plain-object keys
  const fields = new Map(Object.entries(data));
  for (const rule of rules) {
    if (rule.op === 'default') {
      if (!fields.has(rule.field)) fields.set(rule.field, rule.value);
    } else if (rule.op === 'rename') {
      if (fields.has(rule.from)) {
        fields.set(rule.to, fields.get(rule.from));
        fields.delete(rule.from);
      }
    } else {
      fields.delete(rule.field);
    }
  }
  return recordFrom(fields);
}

/** Declares an older version with the rules that lift it to the next version. */
export function olderVersion(schema: z.ZodType, rules: readonly UpcastRule[]): OlderVersion {
  return { schema, rules, upcast: (data: never) => applyUpcastRules(rules, data) };
}

export interface EventDefinition<T extends string = string, L extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly area: Area;
  readonly description: string;
  /** The newest data schema: what readers see after upcasting. */
  readonly latest: L;
  /** The newest version number (older.length + 1). */
  readonly latestVersion: number;
  /** Older versions, oldest first: `older[0]` is version 1. */
  readonly older: readonly OlderVersion[];
  /**
   * Top-level data fields that hold personal data (encrypted at rest, never on Kafka, never in logs): derived from
   * the schemas, every field declared with `personal(...)` in any version.
   */
  readonly pii: readonly string[];
}

export function defineEvent<const T extends string, L extends z.ZodType>(def: {
  type: T;
  area: Area;
  description: string;
  latest: L;
  older?: readonly OlderVersion[];
  /** Optional cross-check: must equal the personal fields the schemas declare. */
  pii?: readonly string[];
}): EventDefinition<T, L> {
  const older = def.older ?? [];
  const schemas = [...older.map((o) => o.schema), def.latest];
  // A catalogue defect, found when the module loads (so by the build's tests and by every process at start).
  const problems = schemas.flatMap((schema, i) =>
    classificationProblems(schema).map((p) => `${def.type} v${i + 1}: ${p}`),
  );
  if (problems.length > 0) throw new TypeError(problems.join('\n'));
  const pii = [...new Set(schemas.flatMap(personalFields))];
  if (def.pii !== undefined && [...def.pii].sort().join() !== [...pii].sort().join()) {
    throw new TypeError(
      `${def.type}: pii [${def.pii.join()}] differs from the personal fields [${pii.join()}]`,
    );
  }
  return {
    type: def.type,
    area: def.area,
    description: def.description,
    latest: def.latest,
    latestVersion: older.length + 1,
    older,
    pii,
  };
}
