import { z } from 'zod';
import { catalogue, EVENT_TYPES } from './catalogue.js';
import type { EventDefinition } from './define.js';
import { envelopeFields } from './envelope.js';

/** The full zod schema (envelope + data) of one event type at one version. */
export function eventSchema(def: EventDefinition, version: number): z.ZodType {
  const data = version === def.latestVersion ? def.latest : def.older[version - 1]?.schema;
  if (data === undefined) throw new RangeError(`${def.type} has no version ${version}`);
  return z
    .strictObject({ ...envelopeFields, type: z.literal(def.type), schemaVersion: z.literal(version), data })
    .describe(def.description);
}

export interface JsonSchemaFile {
  readonly fileName: string;
  readonly schema: Record<string, unknown>;
}

/**
 * JSON Schema (draft 2020-12) of every event type and version, plus an index: generated from the zod
 * catalogue so they can never drift from what the ledger accepts.
 */
export function jsonSchemas(): JsonSchemaFile[] {
  const files: JsonSchemaFile[] = [];
  const index: Record<string, unknown>[] = [];
  for (const type of EVENT_TYPES) {
    const def = catalogue[type] as EventDefinition;
    for (let version = 1; version <= def.latestVersion; version++) {
      const fileName = `${type}.v${version}.schema.json`;
      const schema = z.toJSONSchema(eventSchema(def, version), { target: 'draft-2020-12', io: 'input' });
      files.push({
        fileName,
        schema: {
          $id: `https://crm-ledger.dev/schemas/${fileName}`,
          title: `${type} v${version}`,
          ...schema,
        },
      });
      index.push({
        type,
        version,
        latest: version === def.latestVersion,
        area: def.area,
        pii: def.pii,
        file: fileName,
        // how a consumer lifts this version's data to the next one (absent on the newest version)
        // eslint-disable-next-line crm/no-plain-dictionary -- an empty spread: no key at all
        ...(version < def.latestVersion ? { upcastToNext: def.older[version - 1]!.rules } : {}),
      });
    }
  }
  files.push({ fileName: 'index.json', schema: { title: 'crm-ledger event catalogue', events: index } });
  return files;
}
