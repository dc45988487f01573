import type { ColumnType, ProjectionSpec, TableSpec } from '@crm-ledger/core';
import { assertIdentifier, q, qq } from './identifiers.js';

/**
 * Text columns use the "C" collation: byte order of UTF-8, the order SQLite's BINARY collation gives. Sorting,
 * keyset pagination and `<`/`>` filters then behave the same on both stores (a locale collation would order
 * `B` and `a` differently from SQLite). Times are `timestamptz` and flags `boolean`, the types analysts expect;
 * the store gives them back as the port's cells (ISO-8601 UTC text with milliseconds, 1/0), as SQLite does.
 */
const PG_TYPES: Record<ColumnType, string> = {
  text: 'text COLLATE "C"',
  integer: 'bigint',
  real: 'double precision',
  timestamp: 'timestamptz',
  boolean: 'boolean',
};

/** CREATE TABLE + indexes + comments (descriptions become COMMENTs, visible in psql's \d+ and BI tools). */
export function createTableSql(schema: string, table: TableSpec): string {
  const columns = table.columns.map(
    (c) => `${q(c.name)} ${PG_TYPES[c.type]}${c.nullable === true ? '' : ' NOT NULL'}`,
  );
  const statements = [
    `CREATE TABLE ${qq(schema, table.name)} (${columns.join(', ')}, PRIMARY KEY (${table.primaryKey.map(q).join(', ')}))`,
    ...(table.indexes ?? []).map(
      (i) => `CREATE INDEX ${q(i.name)} ON ${qq(schema, table.name)} (${i.columns.map(q).join(', ')})`,
    ),
  ];
  if (table.description !== undefined) {
    statements.push(`COMMENT ON TABLE ${qq(schema, table.name)} IS ${literal(table.description)}`);
  }
  for (const c of table.columns) {
    if (c.description !== undefined) {
      statements.push(
        `COMMENT ON COLUMN ${qq(schema, table.name)}.${q(c.name)} IS ${literal(c.description)}`,
      );
    }
  }
  return statements.join(';\n');
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Checks every name of a spec before any SQL is built from it. */
export function assertSpec(spec: ProjectionSpec): void {
  assertIdentifier(spec.name, 'projection name');
  if (!Number.isSafeInteger(spec.version) || spec.version < 1) {
    throw new Error(`projection ${spec.name}: version must be a positive integer`);
  }
  if (spec.tables.length === 0) throw new Error(`projection ${spec.name} has no tables`);
  const tableNames = new Set<string>();
  for (const t of spec.tables) {
    assertIdentifier(t.name, 'table name');
    if (t.name.startsWith('_'))
      throw new Error(`table name ${t.name}: names starting with _ are the store's own`);
    if (tableNames.has(t.name)) throw new Error(`projection ${spec.name} declares table ${t.name} twice`);
    tableNames.add(t.name);
    const columns = new Set<string>();
    for (const c of t.columns) {
      assertIdentifier(c.name, `column name of ${t.name}`);
      if (columns.has(c.name)) throw new Error(`table ${t.name} declares column ${c.name} twice`);
      columns.add(c.name);
    }
    if (t.primaryKey.length === 0) throw new Error(`table ${t.name} has no primary key`);
    for (const k of t.primaryKey) {
      if (!columns.has(k)) throw new Error(`primary key column ${k} is not a column of ${t.name}`);
    }
    for (const i of t.indexes ?? []) {
      assertIdentifier(i.name, `index name of ${t.name}`);
      for (const c of i.columns)
        if (!columns.has(c)) throw new Error(`index ${i.name}: ${c} is not a column of ${t.name}`);
    }
  }
}
