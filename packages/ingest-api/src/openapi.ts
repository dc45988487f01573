import { emptyRecord, jsonSchemas } from '@crm-ledger/events';

const NAME = /^(.+)\.schema\.json$/;

/** The catalogue's JSON Schemas as OpenAPI components, named `Event.<Type>.v<version>`. */
export function catalogueComponents(): Record<string, unknown> {
  const out = emptyRecord<unknown>();
  for (const f of jsonSchemas()) {
    const m = NAME.exec(f.fileName);
    if (m === null) continue; // the index
    const { $schema: _schema, $id: _id, ...schema } = f.schema;
    out[`Event.${m[1]}`] = schema;
  }
  return out;
}

/** `anyOf` references to every catalogue event component: the documented shape of one event. */
export function catalogueRefs(): { $ref: string }[] {
  return Object.keys(catalogueComponents()).map((name) => ({ $ref: `#/components/schemas/${name}` }));
}
