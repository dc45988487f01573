import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { customerStream, recordFrom, type RawEnvelope } from '@crm-ledger/events';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';
import {
  Projector,
  heldCustomers,
  installProjectionFault,
  replay,
  requestRetry,
} from '@crm-ledger/projector';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore, type SqliteEventStore } from '@crm-ledger/sqlite';

/**
 * Failure isolation (issue #14): an event whose application throws holds its customer only, in the batch's
 * transaction; the others keep flowing; a retry after the fix catches the customer up; a replay holds the
 * same customer. On SQLite and on PostgreSQL.
 */
const PG_URL = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POISON = '14000000-0000-4000-8000-00000000dead';
let serial = 0;

function ticket(customerId: string, ticketId: string, eventId?: string): RawEnvelope {
  serial++;
  return {
    eventId: eventId ?? `14000000-0000-4000-8000-${serial.toString(16).padStart(12, '0')}`,
    type: 'TicketOpened',
    schemaVersion: 2,
    customerId,
    occurredAt: new Date(Date.UTC(2024, 4, 1, 0, serial)).toISOString(),
    data: { ticketId, channel: 'chat', category: 'billing', priority: 'normal' },
  };
}

async function append(store: SqliteEventStore, e: RawEnvelope): Promise<void> {
  const r = await store.append(customerStream(e.customerId), [e]);
  if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
}

async function dump(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out = new Map<string, readonly Row[]>();
  for (const name of PROJECTION_NAMES)
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out.set(t.name, await readModel.sql({ sqlite: sql, postgres: sql }));
    }
  return recordFrom(out);
}

const ticketsOf = async (readModel: ReadModelStore, customerId: string) =>
  (await readModel.find('service_tickets', [{ column: 'customer_id', op: 'eq', value: customerId }])).map(
    (r) => r['ticket_id'],
  );

const dir = mkdtempSync(path.join(tmpdir(), 'held-'));
const schemas: string[] = [];
afterEach(() => installProjectionFault(undefined));
afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const s of schemas) {
    await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS "${s}__rebuild" CASCADE`);
  }
  await client.end();
  rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => Promise<ReadModelStore>][] = [
  [
    'SQLite',
    () => Promise.resolve(openSqliteReadModel({ file: path.join(dir, `views-${++serial}.sqlite`) })),
  ],
  [
    'PostgreSQL',
    () => {
      const schema = `held_${Math.random().toString(16).slice(2, 10)}`;
      schemas.push(schema);
      return openPostgresReadModelStore({ connectionString: PG_URL, schema, poolSize: 2 });
    },
  ],
];

describe.each(stores)('a projection that throws for one event, on %s', (_name, open) => {
  it('holds only that customer, others keep flowing, a retry after the fix catches it up, a replay holds the same customer', async () => {
    const store = openSqliteEventStore({
      file: path.join(dir, `events-${++serial}.sqlite`),
      synchronous: 'normal',
    });
    const readModel = await open();
    // A test-only fault: the service projection throws for one chosen event.
    installProjectionFault((projection, event) => {
      if (projection === 'service' && event.eventId === POISON) throw new Error('injected fault');
    });
    await append(store, ticket('ann', 't1'));
    await append(store, ticket('bob', 't1'));
    await append(store, ticket('ann', 't2', POISON));
    await append(store, ticket('bob', 't2'));
    await append(store, ticket('ann', 't3'));
    const projector = new Projector({ store, readModel, batchSize: 2 });
    expect(await projector.catchUp()).toBe(await store.headPosition());

    // Only ann, only in the service view; bob is up to date; ann's rows stay at their last good state.
    const held = await heldCustomers(readModel, PROJECTION_NAMES);
    expect(held.map((h) => [h.projection, h.customerId, h.eventId, h.position, h.error])).toEqual([
      ['service', 'ann', POISON, 3, 'Error: injected fault'],
    ]);
    expect(await ticketsOf(readModel, 'bob')).toEqual(['t1', 't2']);
    expect(await ticketsOf(readModel, 'ann')).toEqual(['t1']);
    // The other views of ann keep flowing (every view holds on its own).
    expect(await readModel.checkpoint('service')).toBe(5);

    // Later events of ann wait; bob's keep flowing.
    await append(store, ticket('ann', 't4'));
    await append(store, ticket('bob', 't3'));
    await new Projector({ store, readModel }).catchUp();
    expect(await ticketsOf(readModel, 'ann')).toEqual(['t1']);
    expect(await ticketsOf(readModel, 'bob')).toEqual(['t1', 't2', 't3']);

    // A replay of the same log holds the same customer.
    const replayed = openSqliteReadModel({ file: path.join(dir, `replay-${++serial}.sqlite`) });
    await replay({ store, readModel: replayed });
    expect(
      (await heldCustomers(replayed, PROJECTION_NAMES)).map((h) => [h.projection, h.customerId, h.eventId]),
    ).toEqual([['service', 'ann', POISON]]);
    await replayed.close();

    // A retry while the fault is still there holds ann again (nothing lost); after the fix it catches up.
    await requestRetry(readModel, PROJECTION_NAMES, 'ann');
    await new Projector({ store, readModel }).catchUp();
    expect((await heldCustomers(readModel, PROJECTION_NAMES)).map((h) => h.customerId)).toEqual(['ann']);
    installProjectionFault(undefined);
    expect((await requestRetry(readModel, PROJECTION_NAMES)).map((h) => h.customerId)).toEqual(['ann']);
    await new Projector({ store, readModel }).catchUp();
    expect(await heldCustomers(readModel, PROJECTION_NAMES)).toEqual([]);
    expect(await ticketsOf(readModel, 'ann')).toEqual(['t1', 't2', 't3', 't4']);

    // And the views equal a clean replay without the fault.
    const clean = openSqliteReadModel({ file: path.join(dir, `clean-${++serial}.sqlite`) });
    await replay({ store, readModel: clean });
    expect(await dump(readModel)).toEqual(await dump(clean));
    await clean.close();
    await readModel.close();
    await store.close();
  }, 60_000);
});
