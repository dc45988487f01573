import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import { Projector, replay } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresReadModelStore } from './postgres-read-model-store.js';
import { dropSchema, freshSchema, openTestStore } from './test-support.js';

async function dump(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out: Record<string, readonly Row[]> = {};
  for (const name of PROJECTION_NAMES)
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out[t.name] = await readModel.sql({ sqlite: sql, postgres: sql });
    }
  return out;
}

// Voids re-fold customers and delete the rows that disappear: the same rows on PostgreSQL as on SQLite.
describe('voided events on PostgreSQL: the live projector gives the rows of a SQLite rebuild', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-void-parity-'));
  const schema = freshSchema('voids');
  const events = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  const sqlite = openSqliteReadModel({ file: path.join(dir, 'views.sqlite') });
  let pg: PostgresReadModelStore;
  const voids: RawEnvelope[] = [];

  beforeAll(async () => {
    const histories = [...generateHistory({ seed: 9, customers: 30, targetEvents: 2_500 })];
    for (const h of histories) {
      const r = await events.append(customerStream(h.customerId), h.events);
      if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
    }
    for (const [i, h] of histories.entries()) {
      // A subscription start or a ticket opening (later events depend on them), or every event of a customer.
      const targets =
        i === 0
          ? h.events
          : h.events
              .filter((e) => e.type === (i % 2 === 0 ? 'SubscriptionStarted' : 'TicketOpened'))
              .slice(0, 1);
      for (const t of targets)
        voids.push({
          eventId: randomUUID(),
          type: 'EventVoided',
          schemaVersion: 1,
          customerId: t.customerId,
          occurredAt: t.occurredAt,
          data: { eventId: t.eventId, reason: 'mistake' },
        });
    }
    pg = await openTestStore(schema);
  }, 120_000);

  afterAll(async () => {
    await pg.close();
    await sqlite.close();
    await events.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('voids arriving after the live views were built: PostgreSQL equals a SQLite replay', async () => {
    const projector = new Projector({ store: events, readModel: pg, batchSize: 250, cacheSize: 5 });
    await projector.catchUp();
    const before = await dump(pg);
    for (const v of voids) {
      const r = await events.append(customerStream(v.customerId), [v]);
      expect(r._tag).toBe('Right');
    }
    await projector.catchUp();
    await replay({ store: events, readModel: sqlite });
    const after = await dump(pg);
    expect(after).toEqual(await dump(sqlite));
    expect(after).not.toEqual(before);
    expect(after['value_customers']!.length).toBe(before['value_customers']!.length - 1);
  });
});
