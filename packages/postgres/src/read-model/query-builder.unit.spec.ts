import { describe, expect, it } from 'vitest';
import { Params, afterClause, orderByClause, whereClause } from './query-builder.js';

describe('query building', () => {
  it('builds filters with parameters, never inlined values', () => {
    const p = new Params();
    expect(
      whereClause(
        [
          { column: 'a', op: 'gte', value: 3 },
          { column: 'b', op: 'in', values: ['x', "y'; drop table t; --"] },
          { column: 'c', op: 'isNull' },
          { column: 'd', op: 'in', values: [] },
        ],
        p,
      ),
    ).toBe('"a" >= $1 AND "b" IN ($2, $3) AND "c" IS NULL AND FALSE');
    expect(p.values).toEqual([3, 'x', "y'; drop table t; --"]);
  });

  it('orders NULLs first ascending and last descending, like SQLite', () => {
    expect(
      orderByClause([
        { column: 'a', direction: 'asc' },
        { column: 'b', direction: 'desc' },
      ]),
    ).toBe('"a" ASC NULLS FIRST, "b" DESC NULLS LAST');
  });

  it('expands the keyset condition over the whole sort, NULL-aware', () => {
    const p = new Params();
    const sort = [
      { column: 'a', direction: 'desc' as const },
      { column: 'k', direction: 'asc' as const },
    ];
    expect(afterClause(sort, [5, 'x'], p)).toBe('((("a" < $1 OR "a" IS NULL)) OR ("a" = $2 AND "k" > $3))');
    expect(afterClause(sort, [null, 'x'], new Params())).toBe('((FALSE) OR ("a" IS NULL AND "k" > $1))');
  });
});
