import { COMPARISON_SQL, type CellValue, type Filter, type Row, type Sort } from '@crm-ledger/core';
import { q } from './identifiers.js';

/** Collects parameter values and hands out `$n` placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** `col = $1 AND col2 IN ($2, $3)...`, or `TRUE` for no filters. Columns are checked by the caller. */
export function whereClause(filters: readonly Filter[], params: Params): string {
  if (filters.length === 0) return 'TRUE';
  return filters.map((f) => condition(f, params)).join(' AND ');
}

function condition(f: Filter, params: Params): string {
  const col = q(f.column);
  switch (f.op) {
    case 'isNull':
      return `${col} IS NULL`;
    case 'notNull':
      return `${col} IS NOT NULL`;
    case 'in':
      return f.values.length === 0 ? 'FALSE' : `${col} IN (${f.values.map((v) => params.add(v)).join(', ')})`;
    default:
      return `${col} ${COMPARISON_SQL[f.op]} ${params.add(f.value)}`;
  }
}

/**
 * NULLs sort first in ascending order and last in descending order, as in SQLite, so a list pages the same
 * on both stores. (PostgreSQL's own default is the opposite.)
 */
export function orderByClause(sort: readonly Sort[]): string {
  return sort
    .map((s) => `${q(s.column)} ${s.direction === 'asc' ? 'ASC NULLS FIRST' : 'DESC NULLS LAST'}`)
    .join(', ');
}

/**
 * Keyset pagination: the rows strictly after `last` in the order `sort` (a total order: it ends with the
 * primary key). Expands to `(a after) OR (a = AND b after) OR ...`, with NULLs placed as `orderByClause` does.
 */
export function afterClause(sort: readonly Sort[], last: readonly CellValue[], params: Params): string {
  const disjuncts: string[] = [];
  for (let i = 0; i < sort.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) parts.push(equal(sort[j]!.column, last[j] ?? null, params));
    parts.push(strictlyAfter(sort[i]!, last[i] ?? null, params));
    disjuncts.push(`(${parts.join(' AND ')})`);
  }
  return disjuncts.length === 0 ? 'TRUE' : `(${disjuncts.join(' OR ')})`;
}

function equal(column: string, value: CellValue, params: Params): string {
  return value === null ? `${q(column)} IS NULL` : `${q(column)} = ${params.add(value)}`;
}

function strictlyAfter(s: Sort, value: CellValue, params: Params): string {
  const col = q(s.column);
  if (s.direction === 'asc') {
    // NULLS FIRST: after a NULL comes every non-NULL; after a value, greater values.
    return value === null ? `${col} IS NOT NULL` : `${col} > ${params.add(value)}`;
  }
  // DESC NULLS LAST: after a NULL comes nothing; after a value, smaller values, then the NULLs.
  return value === null ? 'FALSE' : `(${col} < ${params.add(value)} OR ${col} IS NULL)`;
}

export function pick(row: Row, columns: readonly string[]): CellValue[] {
  return columns.map((c) => row[c] ?? null);
}
