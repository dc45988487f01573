import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/readmodel-sqlite';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { ProjectionEngine } from './engine.js';
import { ensureProjections, Projector } from './projector.js';
import { replay } from './replay.js';
import { appendInterleaved, dumpViews } from './test-history.js';
import type { Row, StoredEvent } from '@crm-ledger/core';

describe('projector determinism (rebuild == incremental) on a seeded history', () => {
  let dir: string;
  let store: ReturnType<typeof openSqliteEventStore>;
  let total: number;
  let rebuilt: Record<string, readonly Row[]>;
  let all: StoredEvent[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'projector-det-'));
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
    total = await appendInterleaved(store, generateHistory({ seed: 42, customers: 60, targetEvents: 6_000 }));
    all = [];
    for await (const page of store.readAll({ batchSize: 5000 })) all.push(...page);
    const rm = openSqliteReadModel({ file: path.join(dir, 'rebuilt.sqlite') });
    const result = await replay({ store, readModel: rm, batchSize: 20_000 });
    expect(result.events).toBe(total);
    rebuilt = await dumpViews(rm);
    await rm.close();
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the seeded history fills every view', () => {
    expect(total).toBeGreaterThan(5_000);
    for (const table of ['service_tickets', 'success_accounts', 'experience_surveys', 'value_months'])
      expect(rebuilt[table]!.length).toBeGreaterThan(0);
    expect(rebuilt['value_customers']).toHaveLength(60);
  });

  it('incremental processing with the live projector (small batches, two catch-ups) gives the same rows', async () => {
    const rm = openSqliteReadModel({ file: path.join(dir, 'incremental.sqlite') });
    const projector = new Projector({ store, readModel: rm, batchSize: 777, cacheSize: 10 });
    expect(await projector.catchUp()).toBe(all[all.length - 1]!.globalPosition);
    expect(await dumpViews(rm)).toEqual(rebuilt);
    await rm.close();
  });

  it('property: batches cut at arbitrary points give the same rows', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: all.length - 1 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 50 }),
        async (cuts, cacheSize) => {
          const rm = openSqliteReadModel({ file: path.join(dir, `cut-${run++}.sqlite`) });
          await ensureProjections(rm);
          const engine = await ProjectionEngine.open({
            readModel: rm,
            projections: ['service', 'success', 'experience', 'value'],
            target: 'live',
            cacheSize,
          });
          const bounds = [0, ...[...cuts].sort((a, b) => a - b), all.length];
          for (let i = 0; i + 1 < bounds.length; i++) await engine.apply(all.slice(bounds[i], bounds[i + 1]));
          expect(await dumpViews(rm)).toEqual(rebuilt);
          await rm.close();
        },
      ),
      { numRuns: 6, seed: 7 },
    );
  });
});
