import {
  COMPARISON_SQL,
  decodeCursor,
  encodeCursor,
  listSortKey,
  pageSize,
  totalSort,
  type AggregateQuery,
  type CellValue,
  type Filter,
  type ListQuery,
  type Page,
  type Row,
  type Sort,
  type Target,
} from '@crm-ledger/core';
import { checkIdent, physical } from './ddl.js';
import { columnOf, type TableInfo } from './registry.js';

/** `list` returns at most this many rows per page, whatever the caller asks. */
const MAX_LIMIT = 1000;

/** A statement and the values of its `?` parameters. */
export interface Query {
  readonly sql: string;
  readonly params: CellValue[];
}

/** ` WHERE a = ? AND b IN (?, ?)...` (empty for no filters); the values go to `params`. */
function whereSql(t: TableInfo, filters: readonly Filter[], params: CellValue[]): string {
  if (filters.length === 0) return '';
  const parts = filters.map((f) => {
    const c = columnOf(t, f.column).name;
    switch (f.op) {
      case 'in':
        if (f.values.length === 0) return '0';
        params.push(...f.values);
        return `${c} IN (${f.values.map(() => '?').join(', ')})`;
      case 'isNull':
        return `${c} IS NULL`;
      case 'notNull':
        return `${c} IS NOT NULL`;
      default:
        params.push(f.value);
        return `${c} ${COMPARISON_SQL[f.op]} ?`;
    }
  });
  return ` WHERE ${parts.join(' AND ')}`;
}

/** Rows of a live or shadow table by exact values of some columns. */
export function findQuery(t: TableInfo, where: readonly Filter[], target: Target): Query {
  const params: CellValue[] = [];
  return { sql: `SELECT * FROM ${physical(t.spec.name, target)}${whereSql(t, where, params)}`, params };
}

/** One row of a live table by its full primary key. */
export function getQuery(t: TableInfo, key: Row): Query {
  return {
    sql: `SELECT * FROM ${t.spec.name} WHERE ${t.spec.primaryKey.map((k) => `${k} = ?`).join(' AND ')}`,
    params: t.spec.primaryKey.map((k) => key[k] ?? null),
  };
}

/** Sort expression: nullable columns sort as '' (text, times) or a very small number, so keyset cursors work. */
function sortExpr(t: TableInfo, column: string): string {
  const c = columnOf(t, column);
  if (c.nullable !== true) return c.name;
  return `COALESCE(${c.name}, ${c.type === 'text' || c.type === 'timestamp' ? "''" : '-9.0e18'})`;
}

/** A page of a live table: the statement (one row more than the page, to know whether another follows) and how to read its result. */
export function listQuery(
  t: TableInfo,
  query: ListQuery,
): Query & { readonly toPage: (raw: Record<string, CellValue>[]) => Page } {
  const limit = pageSize(query.limit, MAX_LIMIT);
  const sorts: Sort[] = totalSort(query.orderBy, t.spec.primaryKey);
  const sortKey = listSortKey(t.spec.name, sorts);
  const exprs = sorts.map((s) => sortExpr(t, s.column));
  const params: CellValue[] = [];
  let where = whereSql(t, query.where ?? [], params);
  if (query.cursor !== undefined) {
    const values = decodeCursor(query.cursor, sortKey, sorts.length);
    // Keyset: (a > x) OR (a = x AND b > y) OR ..., with > or < per direction.
    const ors: string[] = [];
    for (let i = 0; i < sorts.length; i++) {
      const ands: string[] = [];
      for (let j = 0; j < i; j++) {
        ands.push(`${exprs[j]} = ?`);
        params.push(values[j]!);
      }
      ands.push(`${exprs[i]} ${sorts[i]!.direction === 'asc' ? '>' : '<'} ?`);
      params.push(values[i]!);
      ors.push(`(${ands.join(' AND ')})`);
    }
    where += `${where === '' ? ' WHERE ' : ' AND '}(${ors.join(' OR ')})`;
  }
  const selectSorts = exprs.map((e, i) => `${e} AS __s${i}`).join(', ');
  const order = exprs.map((e, i) => `${e} ${sorts[i]!.direction === 'asc' ? 'ASC' : 'DESC'}`).join(', ');
  const sql = `SELECT *, ${selectSorts} FROM ${t.spec.name}${where} ORDER BY ${order} LIMIT ${limit + 1}`;
  const toPage = (raw: Record<string, CellValue>[]): Page => {
    const more = raw.length > limit;
    const page = more ? raw.slice(0, limit) : raw;
    const rows = page.map((r) => {
      // eslint-disable-next-line crm/no-plain-dictionary -- keys are the spec's column names, not client data
      const out: Record<string, CellValue> = {};
      for (const c of t.spec.columns) out[c.name] = r[c.name] ?? null;
      return out;
    });
    const last = page[page.length - 1];
    return more && last !== undefined
      ? {
          rows,
          nextCursor: encodeCursor(
            sortKey,
            sorts.map((_, i) => last[`__s${i}`] ?? null),
          ),
        }
      : { rows };
  };
  return { sql, params, toPage };
}

/** Grouped aggregates over a live table, ordered by the group columns. */
export function aggregateQuery(t: TableInfo, query: AggregateQuery): Query {
  const groups = query.groupBy.map((g) => columnOf(t, g).name);
  const measures = query.measures.map((m) => {
    const as = checkIdent(m.as);
    if (m.column === undefined) {
      if (m.fn !== 'count') throw new Error(`${m.fn} needs a column`);
      return `COUNT(*) AS ${as}`;
    }
    return `${m.fn.toUpperCase()}(${columnOf(t, m.column).name}) AS ${as}`;
  });
  const params: CellValue[] = [];
  const where = whereSql(t, query.where ?? [], params);
  const group = groups.length === 0 ? '' : ` GROUP BY ${groups.join(', ')} ORDER BY ${groups.join(', ')}`;
  return { sql: `SELECT ${[...groups, ...measures].join(', ')} FROM ${t.spec.name}${where}${group}`, params };
}
