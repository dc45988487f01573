import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { deploymentOf, loadServiceConfig, type Deployment } from '@crm-ledger/config';
import { customerStream } from '@crm-ledger/events';
import { PostgresReadModelStore } from '@crm-ledger/postgres';
import { EventStoreDbEventStore } from '@crm-ledger/eventstoredb';
import { dropSchemas, POSTGRES } from './test-support/postgres.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpointStore, openEventStore, openReadModelStore } from './stores.js';

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-stores-'));
const schema = `stores_${randomBytes(5).toString('hex')}`;

function deployment(env: Record<string, string>): Deployment {
  const r = loadServiceConfig({ CRM_LEDGER_DATA_DIR: dir, ...env });
  if (E.isLeft(r)) throw new Error(r.left.join('\n'));
  return deploymentOf(r.right);
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchemas(schema);
});

describe('opening the stores a deployment chose', () => {
  it('embedded: SQLite event store, read models and checkpoints in the data directory', async () => {
    const d = deployment({});
    const store = openEventStore(d.eventStore);
    const appended = await store.append(customerStream('c1'), [
      {
        eventId: '00000000-0000-4000-8000-000000000001',
        type: 'FeatureAdopted',
        schemaVersion: 1,
        customerId: 'c1',
        occurredAt: '2024-05-01T09:30:00.000Z',
        data: { feature: 'export' },
      },
    ]);
    expect(E.isRight(appended)).toBe(true);
    await store.close();
    expect(existsSync(path.join(dir, 'ledger.sqlite'))).toBe(true);
    const rm = await openReadModelStore(d.readModel);
    expect(rm.dialect).toBe('sqlite');
    await rm.close();
    const cp = await openCheckpointStore(d);
    await cp.save('relay', 5);
    expect(await cp.load('relay')).toBe(5);
    await cp.close();
    // The same data directory after a change of event store: the SQLite checkpoint is not reused.
    const moved = await openCheckpointStore(
      deployment({
        CRM_LEDGER_EVENT_STORE: 'eventstoredb',
        CRM_LEDGER_EVENTSTOREDB_URL: 'esdb://127.0.0.1:1?tls=false',
      }),
    );
    await expect(moved.load('relay')).rejects.toThrow(/saved reading another event store than eventstoredb:/);
    await moved.close();
  });

  it('production: EventStoreDB (lazy connection), PostgreSQL read models and checkpoints in its schema', async () => {
    const d = deployment({
      CRM_LEDGER_EVENT_STORE: 'eventstoredb',
      CRM_LEDGER_EVENTSTOREDB_URL: 'esdb://127.0.0.1:1?tls=false',
      CRM_LEDGER_READ_MODEL_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: POSTGRES,
      CRM_LEDGER_POSTGRES_SCHEMA: schema,
    });
    const store = openEventStore(d.eventStore);
    expect(store).toBeInstanceOf(EventStoreDbEventStore);
    await store.close();
    const rm = await openReadModelStore(d.readModel);
    expect(rm).toBeInstanceOf(PostgresReadModelStore);
    expect(rm.dialect).toBe('postgres');
    await rm.close();
    const cp = await openCheckpointStore(d);
    await cp.save('relay', 2 ** 33);
    expect(await cp.load('relay')).toBe(2 ** 33);
    await cp.close();
    // The same PostgreSQL schema with the embedded event store: the EventStoreDB checkpoint is refused.
    const back = await openCheckpointStore(
      deployment({
        CRM_LEDGER_READ_MODEL_STORE: 'postgres',
        CRM_LEDGER_POSTGRES_URL: POSTGRES,
        CRM_LEDGER_POSTGRES_SCHEMA: schema,
      }),
    );
    await expect(back.load('relay')).rejects.toThrow(/saved reading another event store than sqlite/);
    await back.close();
  });
});
