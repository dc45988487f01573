import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { Projector, replay } from '@crm-ledger/projector';
import { withSignals } from '@crm-ledger/projector/testing';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresReadModelStore } from './postgres-read-model-store.js';
import { dropSchema, freshSchema, openTestStore } from './test-support.js';

/** Every row of every view table, in primary-key order. */
async function dump(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out: Record<string, readonly Row[]> = {};
  for (const name of PROJECTION_NAMES) {
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out[t.name] = await readModel.sql({ sqlite: sql, postgres: sql });
    }
  }
  return out;
}

/** Every page of a list, following the cursor. */
async function listAll(
  readModel: ReadModelStore,
  table: string,
  orderBy: Parameters<ReadModelStore['list']>[1]['orderBy'],
) {
  const rows: Row[] = [];
  let cursor: string | undefined;
  do {
    const page = await readModel.list(table, {
      limit: 7,
      ...(orderBy === undefined ? {} : { orderBy }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    rows.push(...page.rows);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return rows;
}

// "The same projection specs pass on SQLite and PostgreSQL": the real projector over one seeded history,
// into the embedded SQLite read model and into PostgreSQL, must give identical rows and identical pages.
describe('projections on PostgreSQL give exactly the rows they give on SQLite', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-parity-'));
  const schemas = [freshSchema('parity'), freshSchema('parity')];
  const events = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  const sqlite = openSqliteReadModel({ file: path.join(dir, 'views.sqlite') });
  let rebuiltPg: PostgresReadModelStore;
  let incrementalPg: PostgresReadModelStore;
  let expected: Record<string, readonly Row[]>;

  beforeAll(async () => {
    const all: RawEnvelope[] = [];
    const histories = [...generateHistory({ seed: 7, customers: 40, targetEvents: 3_000 })];
    const end = histories
      .flatMap((h) => h.events.map((e) => e.occurredAt))
      .sort()
      .at(-1)!;
    // with signals and the team's answers to them (success_signals: open, acted, dismissed, reopened by a void)
    for (const h of histories) all.push(...withSignals(h, end).events);
    all.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
    for (let i = 0; i < all.length;) {
      let j = i;
      while (j < all.length && all[j]!.customerId === all[i]!.customerId) j++;
      const r = await events.append(customerStream(all[i]!.customerId), all.slice(i, j));
      if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
      i = j;
    }
    await replay({ store: events, readModel: sqlite });
    expected = await dump(sqlite);
    rebuiltPg = await openTestStore(schemas[0]!);
    incrementalPg = await openTestStore(schemas[1]!);
  }, 120_000);

  afterAll(async () => {
    await rebuiltPg.close();
    await incrementalPg.close();
    await sqlite.close();
    await events.close();
    for (const s of schemas) await dropSchema(s);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the seeded history fills every view on SQLite (the comparison is not vacuous)', () => {
    for (const table of ['service_tickets', 'success_accounts', 'success_signals', 'value_customers']) {
      expect(expected[table]!.length).toBeGreaterThan(0);
    }
  });

  it('a replay (shadow tables, swapped in) into PostgreSQL gives the same rows', async () => {
    const result = await replay({ store: events, readModel: rebuiltPg, batchSize: 1_000 });
    expect(result.position).toBe(await events.headPosition());
    expect(await dump(rebuiltPg)).toEqual(expected);
  });

  it('the live projector in small batches into PostgreSQL gives the same rows', async () => {
    const projector = new Projector({
      store: events,
      readModel: incrementalPg,
      batchSize: 333,
      cacheSize: 5,
    });
    expect(await projector.catchUp()).toBe(await events.headPosition());
    expect(await dump(incrementalPg)).toEqual(expected);
  });

  it('lists page identically on both stores (text order, NULLs, cursors)', async () => {
    for (const [table, orderBy] of [
      ['value_customers', undefined],
      ['service_tickets', [{ column: 'status', direction: 'asc' }]],
      ['success_accounts', [{ column: 'customer_id', direction: 'desc' }]],
      ['success_signals', [{ column: 'occurred_at', direction: 'desc' }]],
    ] as const) {
      const fromSqlite = await listAll(sqlite, table, orderBy);
      expect(fromSqlite.length).toBeGreaterThan(0);
      expect(await listAll(rebuiltPg, table, orderBy)).toEqual(fromSqlite);
    }
  });
});
