import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { disorder, generateHistory } from '@crm-ledger/synthetic';
import { customerHistoryReader } from './customer-history.js';
import { ProjectionEngine } from './engine.js';
import { ensureProjections, Projector } from './projector.js';
import { replay } from './replay.js';
import { withSignals } from './signal-history.js';
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
    const histories = [...generateHistory({ seed: 42, customers: 60, targetEvents: 6_000 })];
    const end = histories
      .flatMap((h) => h.events.map((e) => e.occurredAt))
      .sort()
      .at(-1)!;
    // with the signals the engine raises and the team's answers (acted, dismissed, voided: success_signals)
    total = await appendInterleaved(
      store,
      histories.map((h) => withSignals(h, end)),
    );
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
    const statuses = new Set(rebuilt['success_signals']!.map((r) => r['status']));
    expect([...statuses].sort()).toEqual(['acted', 'dismissed', 'open']);
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
            readCustomer: customerHistoryReader(store),
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

/** Appends a log as it is, in order: consecutive events of one customer together. */
async function appendLog(
  store: ReturnType<typeof openSqliteEventStore>,
  log: readonly RawEnvelope[],
): Promise<void> {
  for (let i = 0; i < log.length;) {
    let j = i;
    while (j < log.length && log[j]!.customerId === log[i]!.customerId) j++;
    const r = await store.append(customerStream(log[i]!.customerId), log.slice(i, j));
    if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
    i = j;
  }
}

/** Cuts `all` into batches whose sizes cycle through `sizes` (each >= 1). */
function cutBy<T>(all: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  for (let i = 0, k = 0; i < all.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(all.slice(i, i + n));
    i += n;
  }
  return out;
}

// Issue 23: histories as real sources deliver them (business times out of order, late events, facts recorded
// twice), replayed with random batch sizes from 1 up: the tables must not depend on the cut. Before the fix of
// `applyTicketEvent` this failed (an agent reply dated before its ticket opened was counted but its ticket row
// written only when a later event of the same batch touched the ticket).
describe('projector determinism on disordered histories (SQLite read model)', () => {
  let dir: string;
  let store: ReturnType<typeof openSqliteEventStore>;
  let all: StoredEvent[];
  let rebuilt: Record<string, readonly Row[]>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'projector-disorder-'));
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
    const log = disorder(generateHistory({ seed: 2323, customers: 12, targetEvents: 1_500 }), {
      seed: 2323,
      backdated: 0.2,
      late: 0.1,
      duplicated: 0.1,
    });
    await appendLog(store, log);
    all = [];
    for await (const page of store.readAll({ batchSize: 5000 })) all.push(...page);
    expect(all).toHaveLength(log.length);
    const rm = openSqliteReadModel({ file: path.join(dir, 'rebuilt.sqlite') });
    await replay({ store, readModel: rm, batchSize: 20_000 });
    rebuilt = await dumpViews(rm);
    await rm.close();
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the disordered history has the odd cases the property is about', () => {
    const anomalies = rebuilt['service_anomalies']!.map((r) => r['reason']);
    expect(anomalies).toContain('agent reply before the ticket was opened');
    expect(anomalies).toContain('ticket opened twice');
  });

  it('property: random batch sizes from 1 up (and a small state cache) give the rows of one big batch', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 20 }),
        async (sizes, cacheSize) => {
          const rm = openSqliteReadModel({ file: path.join(dir, `sizes-${run++}.sqlite`) });
          await ensureProjections(rm);
          const engine = await ProjectionEngine.open({
            readModel: rm,
            projections: ['service', 'success', 'experience', 'value'],
            target: 'live',
            cacheSize,
            readCustomer: customerHistoryReader(store),
          });
          for (const batch of cutBy(all, sizes)) await engine.apply(batch);
          expect(await dumpViews(rm)).toEqual(rebuilt);
          await rm.close();
        },
      ),
      { numRuns: 8, seed: 23, examples: [[[1], 1]] },
    );
  });
});
