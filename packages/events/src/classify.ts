import { z } from 'zod';

/**
 * Every string field of the catalogue says, where it is defined, whether it holds personal data. The mark is zod
 * metadata (`x-personal`), so it also appears in the generated JSON Schemas for consumers in other languages.
 *
 * - personal (`personal(...)`): encrypted at rest with the customer's key and never published to Kafka;
 * - not personal (`notPersonal(...)`): identifiers, labels and codes, validated so that they cannot carry contact
 *   details (an identifier refuses `@`, a product name refuses e-mail and phone shapes).
 *
 * Strings whose format makes them data about time or an opaque UUID (ISO date, time, date-time, duration, UUID)
 * are not personal by that format. Enumerations and literals are closed sets of our own words.
 */
export const PERSONAL_KEY = 'x-personal';

/** Formats that cannot carry free text: such a string is not personal by its format. */
const NON_PERSONAL_FORMATS = new Set(['datetime', 'date', 'time', 'duration', 'uuid', 'guid']);

/** Marks a string schema as not personal data. Call it last (zod drops metadata on a later `.regex`/`.max`). */
export function notPersonal<S extends z.ZodType>(schema: S): S {
  // eslint-disable-next-line crm/no-plain-dictionary -- one fixed key of zod's metadata, no client string
  return schema.meta({ [PERSONAL_KEY]: false });
}

/** Marks a schema as personal data (what `personal()` of primitives.ts does for its union). */
export function markPersonal<S extends z.ZodType>(schema: S): S {
  // eslint-disable-next-line crm/no-plain-dictionary -- one fixed key of zod's metadata, no client string
  return schema.meta({ [PERSONAL_KEY]: true });
}

/** The classification of a schema node: from its own or inherited metadata, or from its string format. */
export function classificationOf(schema: z.ZodType): boolean | undefined {
  const meta: Record<string, unknown> | undefined = z.globalRegistry.get(schema);
  const mark = meta?.[PERSONAL_KEY];
  if (typeof mark === 'boolean') return mark;
  const def = schema._zod.def as { type: string; format?: string };
  if (def.type === 'string' && def.format !== undefined && NON_PERSONAL_FORMATS.has(def.format)) return false;
  return undefined;
}

/** A string-holding field found by `stringFields`. */
export interface StringField {
  /** Path in the data, without array indexes (`['items', 'name']`). */
  readonly path: readonly string[];
  /** `true` personal, `false` not, `undefined` unclassified (a defect of the catalogue). */
  readonly personal: boolean | undefined;
  /** Whether the field may be absent. */
  readonly optional: boolean;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly options?: readonly z.ZodType[];
  readonly element?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);
const NO_STRINGS = new Set([
  'number',
  'int',
  'bigint',
  'boolean',
  'enum',
  'literal',
  'null',
  'undefined',
  'date',
]);

/**
 * Every field of a schema that can hold a string (free or formatted), with its classification. A union marked as a
 * whole (a personal field: plaintext or ciphertext) counts as one field; an unmarked union is walked option by
 * option (the same path may then appear more than once). Types the walk does not understand are reported as
 * unclassified, so a new kind of schema cannot slip through.
 */
export function stringFields(schema: z.ZodType): StringField[] {
  const found: StringField[] = [];
  const walk = (s: z.ZodType, path: readonly string[], optional: boolean): void => {
    const def = s._zod.def as Def;
    const mark = classificationOf(s);
    if (mark !== undefined && (def.type === 'string' || def.type === 'union')) {
      found.push({ path, personal: mark, optional });
      return;
    }
    if (WRAPPERS.has(def.type) && def.innerType !== undefined) {
      walk(def.innerType, path, optional || def.type !== 'nonoptional');
    } else if (def.type === 'object' && def.shape !== undefined) {
      for (const [key, value] of Object.entries(def.shape)) walk(value, [...path, key], false);
    } else if (def.type === 'union' && def.options !== undefined) {
      for (const option of def.options) walk(option, path, optional);
    } else if (def.type === 'array' && def.element !== undefined) {
      walk(def.element, path, optional);
    } else if (def.type === 'pipe' && def.in !== undefined) {
      walk(def.in, path, optional);
    } else if (!NO_STRINGS.has(def.type)) {
      // a plain string without a mark, or a kind of schema this walk does not know
      found.push({ path, personal: undefined, optional });
    }
  };
  walk(schema, [], false);
  return found;
}

/** Problems of a data schema: unclassified strings, personal fields the relay could not remove (nested). */
export function classificationProblems(schema: z.ZodType): string[] {
  const problems: string[] = [];
  for (const field of stringFields(schema)) {
    const where = field.path.length === 0 ? '(data)' : field.path.join('.');
    if (field.personal === undefined) {
      problems.push(
        `${where} is a string field without a classification: declare it with personal(...) or notPersonal(...)`,
      );
    } else if (field.personal && field.path.length !== 1) {
      problems.push(
        `${where} is personal but not a top-level field of data (only those are removed on Kafka)`,
      );
    }
  }
  return problems;
}

/** The top-level fields of a data schema marked personal, in declaration order, without duplicates. */
export function personalFields(schema: z.ZodType): string[] {
  const names: string[] = [];
  for (const field of stringFields(schema)) {
    const name = field.path[0];
    if (field.personal === true && field.path.length === 1 && name !== undefined && !names.includes(name)) {
      names.push(name);
    }
  }
  return names;
}
