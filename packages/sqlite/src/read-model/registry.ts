import type { ColumnSpec, ProjectionSpec, TableSpec } from '@crm-ledger/core';
import { checkIdent } from './ddl.js';

/** A registered table: its spec, its projection and its columns by name. */
export interface TableInfo {
  readonly spec: TableSpec;
  readonly projection: string;
  readonly columns: ReadonlyMap<string, ColumnSpec>;
}

/** The tables of the registered projection specs, by name: every name checked before SQL is built from it. */
export class TableRegistry {
  private readonly tables = new Map<string, TableInfo>();

  register(spec: ProjectionSpec): void {
    checkIdent(spec.name);
    for (const t of spec.tables) {
      checkIdent(t.name);
      const columns = new Map<string, ColumnSpec>();
      for (const c of t.columns) columns.set(checkIdent(c.name), c);
      for (const k of t.primaryKey)
        if (!columns.has(k)) throw new Error(`${t.name}: unknown key column ${k}`);
      this.tables.set(t.name, { spec: t, projection: spec.name, columns });
    }
  }

  table(name: string): TableInfo {
    const t = this.tables.get(name);
    if (t === undefined) throw new Error(`unknown read-model table ${JSON.stringify(name)}`);
    return t;
  }
}

export function columnOf(t: TableInfo, name: string): ColumnSpec {
  const c = t.columns.get(name);
  if (c === undefined) throw new Error(`unknown column ${JSON.stringify(name)} of ${t.spec.name}`);
  return c;
}
