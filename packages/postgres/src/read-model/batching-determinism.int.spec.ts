import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReadModelStore, Row, StoredEvent } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { ensureProjections, ProjectionEngine, replay } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { disorder, generateHistory, Rng } from '@crm-ledger/synthetic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, freshSchema, openTestStore } from './test-support.js';

/** Every row of every view table (state and anomalies included), in primary-key order. */
async function dump(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out: Record<string, readonly Row[]> = {};
  for (const name of PROJECTION_NAMES)
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out[t.name] = await readModel.sql({ sqlite: sql, postgres: sql });
    }
  return out;
}

// Issue 23, on PostgreSQL: a disordered history (business times out of order, late events, facts recorded
// twice) applied with random batch sizes from 1 up gives exactly the rows of one big batch, and the rows the
// SQLite read model gets. Seeded: each run draws its own batch sizes and cache size.
describe('views on PostgreSQL do not depend on how a disordered log is cut into batches', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-pg-batching-'));
  const events = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  const schemas: string[] = [];
  let all: StoredEvent[];
  let expected: Record<string, readonly Row[]>;

  beforeAll(async () => {
    const log = disorder(generateHistory({ seed: 2324, customers: 10, targetEvents: 1_000 }), {
      seed: 2324,
      backdated: 0.2,
      late: 0.1,
      duplicated: 0.1,
    });
    for (let i = 0; i < log.length;) {
      let j = i;
      while (j < log.length && log[j]!.customerId === log[i]!.customerId) j++;
      const r = await events.append(customerStream(log[i]!.customerId), log.slice(i, j));
      if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
      i = j;
    }
    all = [];
    for await (const page of events.readAll({ batchSize: 5_000 })) all.push(...page);
    const sqlite = openSqliteReadModel({ file: path.join(dir, 'views.sqlite') });
    await replay({ store: events, readModel: sqlite, batchSize: 20_000 });
    expected = await dump(sqlite);
    await sqlite.close();
  }, 120_000);

  afterAll(async () => {
    await events.close();
    for (const s of schemas) await dropSchema(s);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the history holds the odd cases (an agent reply dated before its ticket, a ticket opened twice)', () => {
    const reasons = expected['service_anomalies']!.map((r) => r['reason']);
    expect(reasons).toContain('agent reply before the ticket was opened');
    expect(reasons).toContain('ticket opened twice');
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`run ${seed}: batches of random sizes (1 on the first run) give the rows of one big batch`, async () => {
      const rng = new Rng(seed, 23);
      const sizes = seed === 1 ? [1] : Array.from({ length: 1 + rng.int(6) }, () => 1 + rng.int(300));
      const schema = freshSchema('batching');
      schemas.push(schema);
      const pg = await openTestStore(schema);
      try {
        await ensureProjections(pg);
        const engine = await ProjectionEngine.open({
          readModel: pg,
          projections: PROJECTION_NAMES,
          target: 'live',
          cacheSize: 1 + rng.int(20),
          readCustomer: (customerId, until) =>
            Promise.resolve(
              all.filter((e) => e.event.customerId === customerId && e.globalPosition <= until),
            ),
        });
        for (let i = 0, k = 0; i < all.length; k++) {
          const n = sizes[k % sizes.length]!;
          await engine.apply(all.slice(i, i + n));
          i += n;
        }
        expect(await dump(pg)).toEqual(expected);
      } finally {
        await pg.close();
      }
    }, 120_000);
  }
});
