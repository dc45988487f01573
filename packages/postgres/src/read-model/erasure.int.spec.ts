import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Row } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { encryptingEventStore, PiiVault } from '@crm-ledger/pii';
import { openSqliteKeyStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { dropSchema, freshSchema, openTestStore, TEST_POSTGRES_URL } from './test-support.js';

const PERSON = {
  name: 'Philomena Quackenbush-Zyx',
  email: 'philomena.zyx@erasure-test.example',
  text: 'wobbleflange broke',
};
const SECRETS = [...Object.values(PERSON), 'Philomena', 'wobbleflange'];
const VICTIM = 'pg-victim';

const ev = (type: string, occurredAt: string, data: unknown, schemaVersion = 1): RawEnvelope => ({
  eventId: randomUUID(),
  type,
  schemaVersion,
  customerId: VICTIM,
  occurredAt,
  data,
});

/** Every row of every table of the schema, as JSON text (what a `pg_dump` of the views would hold). */
async function dumpSchema(schema: string): Promise<Record<string, Row[]>> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ table_name: string }>(
      // Tables only: the store's `readmodel_projections` view repeats its `_projections` bookkeeping.
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
      [schema],
    );
    const out: Record<string, Row[]> = {};
    for (const { table_name } of tables) {
      const { rows } = await client.query<{ j: Row }>(
        `SELECT row_to_json(t) AS j FROM "${schema}"."${table_name}" t ORDER BY row_to_json(t)::text`,
      );
      out[table_name] = rows.map((r) => r.j);
    }
    return out;
  } finally {
    await client.end();
  }
}

/**
 * The views without what an erasure legitimately changes: the customer's erased_at and last event (also inside the
 * projector's folded per-customer `state`, checked through the view columns it feeds), and bookkeeping tables.
 */
const metricsOf = (dump: Record<string, Row[]>) =>
  Object.fromEntries(
    Object.entries(dump)
      .filter(([t]) => !t.startsWith('_'))
      .map(([t, rows]) => [t, rows.map(({ erased_at: _e, last_event_at: _l, state: _s, ...rest }) => rest)]),
  );

describe('PostgreSQL read models and erasure (real PostgreSQL, SQLite ledger behind the encrypting store)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-pg-erasure-'));
  const schema = freshSchema('erasure');
  afterAll(async () => {
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('no view row holds the person, before or after erasure, and every metric is unchanged by it', async () => {
    const keys = openSqliteKeyStore({ file: path.join(dir, 'keys.db'), masterKey: randomBytes(32) });
    const store = encryptingEventStore(
      openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' }),
      new PiiVault(keys),
      {
        validate: true,
      },
    );
    const readModel = await openTestStore(schema);
    try {
      for (const h of generateHistory({ seed: 3, customers: 20, targetEvents: 1_500 })) {
        const r = await store.append(customerStream(h.customerId), h.events);
        if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
      }
      const personal = [
        ev('CustomerRegistered', '2024-01-02T10:00:00.000Z', {
          segment: 'B2B',
          acquisitionChannel: 'partner',
          name: PERSON.name,
          email: PERSON.email,
        }),
        ev('PurchaseMade', '2024-01-03T10:00:00.000Z', {
          orderId: 'o-pg',
          amount: { amountMinor: 99_000, currency: 'USD' },
        }),
        ev('SurveyAnswered', '2024-01-04T10:00:00.000Z', {
          kind: 'CSAT',
          surveyId: 's-pg',
          score: 2,
          comment: PERSON.text,
        }),
        ev('FeedbackGiven', '2024-01-05T10:00:00.000Z', {
          channel: 'chat',
          sentiment: -0.9,
          text: PERSON.text,
        }),
        ev(
          'TicketOpened',
          '2024-01-06T10:00:00.000Z',
          {
            ticketId: 't-pg',
            channel: 'chat',
            category: 'billing',
            priority: 'urgent',
            subject: PERSON.text,
          },
          2,
        ),
        ev('OutreachMade', '2024-01-07T10:00:00.000Z', {
          kind: 'check_in',
          by: 'csm-1',
          channel: 'phone',
          note: `${PERSON.name} was upset`,
        }),
      ];
      if ((await store.append(customerStream(VICTIM), personal))._tag === 'Left')
        throw new Error('append failed');
      const projector = new Projector({ store, readModel, batchSize: 200 });
      await projector.catchUp();
      const before = await dumpSchema(schema);
      expect(before['value_customers']!.some((r) => r['customer_id'] === VICTIM)).toBe(true);
      expect(SECRETS.filter((s) => JSON.stringify(before).includes(s))).toEqual([]);

      const erasure = ev('CustomerErased', '2024-03-01T00:00:00.000Z', { reason: 'customer_request' });
      if ((await store.append(customerStream(VICTIM), [erasure]))._tag === 'Left')
        throw new Error('erase failed');
      await projector.catchUp();
      const after = await dumpSchema(schema);
      expect(SECRETS.filter((s) => JSON.stringify(after).includes(s))).toEqual([]);
      // erased_at is a timestamptz: row_to_json writes it with an offset (+00:00), the instant is the erasure's.
      const erasedAt = after['value_customers']!.find((r) => r['customer_id'] === VICTIM)!['erased_at'];
      expect(new Date(String(erasedAt)).toISOString()).toBe(erasure.occurredAt);
      expect(metricsOf(after)).toEqual(metricsOf(before));
    } finally {
      await readModel.close();
      await store.close();
      await keys.close();
    }
  });
});
