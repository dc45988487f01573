import { describe, expect, it } from 'vitest';
import { documentedQueries } from './documented-sql.js';

describe('the SQL examples of docs/read-models.md', () => {
  it('are found, and each is one statement', () => {
    const queries = documentedQueries();
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const q of queries) expect(q.replace(/;\s*$/, ''), q).not.toContain(';');
  });
});
