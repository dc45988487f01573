import { type z } from 'zod';

export const AREAS = ['relationship', 'revenue', 'service', 'success', 'experience'] as const;
export type Area = (typeof AREAS)[number];

/** An older schema version of an event's data and the function that lifts it to the next version. */
export interface OlderVersion {
  readonly schema: z.ZodType;
  /** Lifts data of this version to the next version's shape. Pure; never fails on valid input. */
  readonly upcast: (data: never) => unknown;
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
  /** Top-level data fields that hold personal data (encrypted at rest, never in clear on Kafka or in logs). */
  readonly pii: readonly string[];
}

/** Typed helper to declare an older version together with its upcaster. */
export function olderVersion<S extends z.ZodType>(
  schema: S,
  upcast: (data: z.infer<S>) => unknown,
): OlderVersion {
  return { schema, upcast: upcast };
}

export function defineEvent<const T extends string, L extends z.ZodType>(def: {
  type: T;
  area: Area;
  description: string;
  latest: L;
  older?: readonly OlderVersion[];
  pii?: readonly string[];
}): EventDefinition<T, L> {
  const older = def.older ?? [];
  return {
    type: def.type,
    area: def.area,
    description: def.description,
    latest: def.latest,
    latestVersion: older.length + 1,
    older,
    pii: def.pii ?? [],
  };
}
