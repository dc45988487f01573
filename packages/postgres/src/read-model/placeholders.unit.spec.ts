import { describe, expect, it } from 'vitest';
import { toPostgresPlaceholders } from './placeholders.js';

describe('? -> $n', () => {
  it('numbers the parameters in order', () => {
    expect(toPostgresPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?)')).toEqual({
      text: 'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)',
      count: 3,
    });
  });

  it('leaves ? in literals, quoted identifiers, dollar quotes and comments alone', () => {
    const text = `SELECT 'it''s ?' AS "odd?col", $tag$ ? $tag$, ? -- why ?\n/* ? */ FROM t WHERE x = ?`;
    expect(toPostgresPlaceholders(text)).toEqual({
      text: `SELECT 'it''s ?' AS "odd?col", $tag$ ? $tag$, $1 -- why ?\n/* ? */ FROM t WHERE x = $2`,
      count: 2,
    });
  });
});
