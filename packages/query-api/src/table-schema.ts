import { z } from 'zod';
import { recordFrom } from '@crm-ledger/events';
import type { ColumnSpec, ColumnType, ProjectionSpec, TableSpec } from '@crm-ledger/core';

/**
 * The JSON type of a column's cells (read-model-store.ts: times ISO-8601 UTC text, money integer minor units,
 * flags 0/1 in every dialect).
 */
const CELL: { readonly [T in ColumnType]: () => z.ZodType } = {
  integer: () => z.int(),
  real: () => z.number(),
  text: () => z.string(),
  timestamp: () => z.string().describe('ISO-8601 UTC, milliseconds (YYYY-MM-DDTHH:MM:SS.sssZ)'),
  boolean: () => z.union([z.literal(0), z.literal(1)]).describe('a flag: 1 true, 0 false'),
};

function cellOf(column: ColumnSpec): z.ZodType {
  const cell = CELL[column.type]();
  const typed = column.nullable === true ? cell.nullable() : cell;
  return column.description === undefined ? typed : typed.describe(column.description);
}

/**
 * The schema of a row of a read-model table, derived from its spec (never re-declared by hand): one property
 * per column, of the column's type, null allowed where the column is nullable, every column present.
 */
export function tableRowSchema(table: TableSpec) {
  const row = z.object(recordFrom(table.columns.map((c) => [c.name, cellOf(c)] as const))).readonly();
  return table.description === undefined
    ? row.describe(`A row of ${table.name}`)
    : row.describe(`A row of ${table.name}: ${table.description}`);
}

/** The row schema of the table `name` of a projection (throws on a name it does not have: a programming error). */
export function rowSchemaOf(spec: ProjectionSpec | { readonly tables: readonly TableSpec[] }, name: string) {
  const table = spec.tables.find((t) => t.name === name);
  if (table === undefined) throw new Error(`no table ${name}`);
  return tableRowSchema(table);
}
