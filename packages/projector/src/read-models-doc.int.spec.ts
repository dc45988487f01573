import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { Projector } from './projector.js';
import { appendInterleaved } from './test-history.js';

const doc = readFileSync(path.join(import.meta.dirname, '..', '..', '..', 'docs', 'read-models.md'), 'utf8');
const queries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

describe('docs/read-models.md', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'read-models-doc-'));
  let readModel: SqliteReadModel;
  let store: ReturnType<typeof openSqliteEventStore>;

  beforeAll(async () => {
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
    await appendInterleaved(store, generateHistory({ seed: 5, customers: 150, targetEvents: 15_000 }));
    readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
    await new Projector({ store, readModel }).catchUp();
  });
  afterAll(async () => {
    await readModel.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has example queries', () => {
    expect(queries.length).toBeGreaterThanOrEqual(15);
  });

  it.each(queries.map((q, i) => [i + 1, q] as const))(
    'example query %i runs as written and returns rows',
    async (_i, q) => {
      const rows = await readModel.sql({ sqlite: q, postgres: q });
      expect(rows.length).toBeGreaterThan(0);
    },
  );

  it('never sums minor units across currencies: a query summing a *_minor column groups by currency', () => {
    const summing = queries.filter((q) => /SUM\([^)]*_minor/.test(q));
    expect(summing.length).toBeGreaterThanOrEqual(3);
    for (const q of summing) expect(q, q).toMatch(/GROUP BY[^;]*currency/);
  });

  it('documents every table and column of every view', () => {
    for (const name of PROJECTION_NAMES)
      for (const t of projections[name].spec.tables) {
        expect(doc, t.name).toContain(`### \`${t.name}\``);
        for (const c of t.columns) expect(doc, `${t.name}.${c.name}`).toContain(`| \`${c.name}\` |`);
      }
  });
});
