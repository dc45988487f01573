import type { ColumnSpec, ColumnType, TableSpec, Target } from '@crm-ledger/core';

/** Table, column and index names: plain SQL identifiers, the same in every dialect. */
const IDENT = /^[a-z][a-z0-9_]*$/;

/** Shadow tables of a rebuild in progress are named `<table>__shadow`. */
const SHADOW = '__shadow';

export function checkIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a valid identifier: ${JSON.stringify(name)}`);
  return name;
}

/** The physical name of a table's live or shadow copy. */
export const physical = (table: string, target: Target): string =>
  target === 'shadow' ? table + SHADOW : table;

/**
 * The registry of projections: one row per projection and target (`live`, `shadow`, and `shadow:<i>/<n>`
 * per partition of a partitioned rebuild) with its spec version, checkpoint and spec.
 */
export const META_DDL = `
CREATE TABLE IF NOT EXISTS readmodel_projections (
  name       TEXT    NOT NULL,
  target     TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  checkpoint INTEGER NOT NULL,
  spec       TEXT    NOT NULL,
  PRIMARY KEY (name, target)
) STRICT;
`;

/** SQLite keeps times as ISO-8601 text (they sort and compare as text) and flags as integers 0/1. */
const SQLITE_TYPES: Record<ColumnType, string> = {
  text: 'TEXT',
  timestamp: 'TEXT',
  integer: 'INTEGER',
  boolean: 'INTEGER',
  real: 'REAL',
};

const sqlType = (c: ColumnSpec): string => `${SQLITE_TYPES[c.type]}${c.nullable === true ? '' : ' NOT NULL'}`;

/** CREATE TABLE of a table's live or shadow copy (WITHOUT ROWID: the primary key is the storage order). */
export function createTableSql(t: TableSpec, target: Target): string {
  const cols = t.columns.map((c) => `${c.name} ${sqlType(c)}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${physical(t.name, target)} (${cols}, PRIMARY KEY (${t.primaryKey.join(', ')})) WITHOUT ROWID`;
}

/** CREATE INDEX of each secondary index of a live table. */
export function createIndexesSql(t: TableSpec): string[] {
  return (t.indexes ?? []).map(
    (i) =>
      `CREATE INDEX IF NOT EXISTS ${checkIdent(i.name)} ON ${t.name} (${i.columns.map(checkIdent).join(', ')})`,
  );
}
