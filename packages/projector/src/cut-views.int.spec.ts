import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadModelStore } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { openSqliteEventStore, openSqliteReadModel } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { CutViews } from './cut-views.js';
import { replay } from './replay.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cut-views-'));
const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
const AS_OF = '2025-03-31T23:59:59.999Z';

beforeAll(async () => {
  for (const h of generateHistory({ seed: 5, customers: 12, targetEvents: 800 }))
    await store.append(customerStream(h.customerId), h.events);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const accounts = async (rm: ReadModelStore): Promise<string[]> =>
  (
    await rm.sql({
      sqlite: 'SELECT customer_id FROM success_accounts ORDER BY customer_id',
      postgres: 'SELECT customer_id FROM success_accounts ORDER BY customer_id',
    })
  ).map((r) => String(r['customer_id']));

/** The accounts of the views rebuilt by replay with the cut, into a fresh read model. */
async function rebuilt(cut: { asOf?: string; position?: number }): Promise<string[]> {
  const rm = openSqliteReadModel({ file: ':memory:' });
  await replay({
    store,
    readModel: rm,
    ...(cut.asOf === undefined ? {} : { asOf: cut.asOf }),
    ...(cut.position === undefined ? {} : { until: cut.position }),
    resume: false,
  });
  const out = await accounts(rm);
  await rm.close();
  return out;
}

describe('CutViews: the views of a past cut, built once and kept', () => {
  it('a cut with only a business time follows the log: a late event that occurred by then appears, as in a rebuild', async () => {
    const opened: ReadModelStore[] = [];
    const views = new CutViews({
      store,
      openScratch: () => {
        const rm = openSqliteReadModel({ file: ':memory:' });
        opened.push(rm);
        return Promise.resolve(rm);
      },
    });
    const before = await views.withCut({ asOf: AS_OF }, accounts);
    expect(before).toEqual(await rebuilt({ asOf: AS_OF }));
    expect(before.length).toBeGreaterThan(0);
    // a customer back-filled today whose events occurred before the cut, and one whose events occurred after it
    for (const [id, at] of [
      ['late-before', '2025-01-05T00:00:00Z'],
      ['late-after', '2025-05-05T00:00:00Z'],
    ] as const)
      await store.append(customerStream(id), [
        {
          eventId: randomUUID(),
          type: 'CustomerRegistered',
          schemaVersion: 1,
          customerId: id,
          occurredAt: at,
          data: { segment: 'B2B', acquisitionChannel: 'referral' },
        },
      ]);
    const after = await views.withCut({ asOf: AS_OF }, accounts);
    expect(after).toEqual(await rebuilt({ asOf: AS_OF }));
    expect(after).toContain('late-before');
    expect(after).not.toContain('late-after');
    // one scratch read model for the cut, caught up rather than rebuilt
    expect(opened).toHaveLength(1);
    await views.close();
  });

  it('keeps at most `capacity` cuts: the least recently used is closed, and built again when asked again', async () => {
    const closed: string[] = [];
    let n = 0;
    const views = new CutViews({
      store,
      capacity: 1,
      openScratch: () => {
        const rm = openSqliteReadModel({ file: ':memory:' });
        const name = `scratch-${++n}`;
        const close = rm.close.bind(rm);
        rm.close = async () => {
          closed.push(name);
          await close();
        };
        return Promise.resolve(rm);
      },
    });
    const head = await store.headPosition();
    const a = await views.withCut({ position: Math.floor(head / 2) }, accounts);
    expect(a).toEqual(await rebuilt({ position: Math.floor(head / 2) }));
    const b = await views.withCut({ asOf: AS_OF, position: head }, accounts);
    expect(b).toEqual(await rebuilt({ asOf: AS_OF, position: head }));
    expect(closed).toEqual(['scratch-1']);
    expect(await views.withCut({ position: Math.floor(head / 2) }, accounts)).toEqual(a);
    expect(closed).toEqual(['scratch-1', 'scratch-2']);
    expect(n).toBe(3);
    await views.close();
    expect(closed).toEqual(['scratch-1', 'scratch-2', 'scratch-3']);
  });
});
