import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProjectionSpec } from '@crm-ledger/core';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { MIGRATIONS } from './migrations.js';
import { TEST_POSTGRES_URL, dropSchema, freshSchema, openTestStore } from './test-support.js';

/** The type PostgreSQL reports for each column of a table of `schema`. */
async function columnTypes(schema: string, table: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [schema, table],
    );
    return new Map(rows.map((r) => [r.column_name, r.data_type]));
  } finally {
    await client.end();
  }
}

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const EXPECTED: Record<string, string> = {
  text: 'text',
  integer: 'bigint',
  real: 'double precision',
  timestamp: 'timestamp with time zone',
  boolean: 'boolean',
};

describe('PostgreSQL column types analysts expect', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
  });

  it('every view: times timestamptz, flags boolean, money bigint minor units next to a currency column', async () => {
    const schema = freshSchema('types');
    schemas.push(schema);
    const store = await openTestStore(schema);
    try {
      for (const name of PROJECTION_NAMES) {
        await store.ensureProjection(projections[name].spec);
        for (const t of projections[name].spec.tables) {
          const types = await columnTypes(schema, t.name);
          for (const c of t.columns) expect(types.get(c.name), `${t.name}.${c.name}`).toBe(EXPECTED[c.type]);
          if (t.columns.some((c) => c.name.endsWith('_minor')))
            expect(
              t.columns.some((c) => c.name.endsWith('currency')),
              `${t.name} has money and a currency column`,
            ).toBe(true);
        }
      }
      const types = await columnTypes(schema, 'service_tickets');
      expect(types.get('opened_at')).toBe('timestamp with time zone');
      expect(types.get('one_touch')).toBe('boolean');
      expect((await columnTypes(schema, 'value_currencies')).get('gross_revenue_minor')).toBe('bigint');
    } finally {
      await store.close();
    }
  });

  it('an existing deployment (text times, integer flags, before migration 3) is served, then rebuilt into the new types', async () => {
    const schema = freshSchema('upgrade');
    schemas.push(schema);
    const spec = (version: number, typed: boolean): ProjectionSpec => ({
      name: 'demo',
      version,
      tables: [
        {
          name: 'demo_rows',
          primaryKey: ['id'],
          columns: [
            { name: 'id', type: 'text' },
            { name: 'opened_at', type: typed ? 'timestamp' : 'text' },
            { name: 'one_touch', type: typed ? 'boolean' : 'integer' },
          ],
        },
      ],
    });
    const row = { id: 'a', opened_at: '2025-03-01T09:30:00.000Z', one_touch: 1 };
    let store = await openTestStore(schema);
    await store.ensureProjection(spec(1, false));
    await store.apply([
      { projection: 'demo', checkpoint: 5, changes: [{ op: 'upsert', table: 'demo_rows', row }] },
    ]);
    await store.close();
    // What the previous release left: migrations 1 and 2 only.
    await admin(
      `DELETE FROM "${schema}"._migrations WHERE id = 3; DROP VIEW "${schema}".readmodel_projections;
       DROP FUNCTION "${schema}".julianday(text); DROP FUNCTION "${schema}".julianday(timestamptz)`,
    );
    store = await openTestStore(schema);
    try {
      // migration 3 ran again; every migration is recorded once
      expect(await store.sql({ sqlite: '', postgres: 'SELECT id FROM _migrations ORDER BY id' })).toEqual(
        MIGRATIONS.map((m) => ({ id: m.id })),
      );
      expect(MIGRATIONS.map((m) => m.id)).toContain(3);
      const progress = "SELECT name, version, checkpoint FROM readmodel_projections WHERE target = 'live'";
      expect(await store.sql({ sqlite: progress, postgres: progress })).toEqual([
        { name: 'demo', version: 1, checkpoint: 5 },
      ]);
      // The new release's spec: a version change, the old tables still served until the rebuild is swapped in.
      expect(await store.ensureProjection(spec(2, true))).toEqual({ checkpoint: 5, versionChanged: true });
      expect(await store.get('demo_rows', { id: 'a' })).toEqual(row);
      await store.beginRebuild(spec(2, true));
      await store.apply([
        {
          projection: 'demo',
          target: 'shadow',
          checkpoint: 5,
          changes: [{ op: 'upsert', table: 'demo_rows', row }],
        },
      ]);
      await store.completeRebuild('demo');
      expect(await columnTypes(schema, 'demo_rows')).toEqual(
        new Map([
          ['id', 'text'],
          ['opened_at', 'timestamp with time zone'],
          ['one_touch', 'boolean'],
        ]),
      );
      // The same cells as before, whatever the column types.
      expect(await store.get('demo_rows', { id: 'a' })).toEqual(row);
      const days =
        "SELECT julianday('2025-03-02T09:30:00.000Z') - julianday(opened_at) AS d FROM demo_rows WHERE one_touch";
      expect(await store.sql({ sqlite: days, postgres: days })).toEqual([{ d: 1 }]);
    } finally {
      await store.close();
    }
  });
});
