import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { deploymentOf, describeDeployment, loadServiceConfig, withoutCredentials } from './deployment.js';

const ok = (env: Record<string, string>) => {
  const r = loadServiceConfig(env);
  if (E.isLeft(r)) throw new Error(r.left.join('\n'));
  return deploymentOf(r.right);
};

describe('deployment choices from the environment', () => {
  it('defaults to the embedded ledger: SQLite files in the data directory, Kafka off', () => {
    const d = ok({ CRM_LEDGER_DATA_DIR: '/srv/ledger' });
    expect(d).toEqual({
      dataDir: '/srv/ledger',
      masterKey: { file: path.join('/srv/ledger', 'master.key'), profile: 'development' },
      eventStore: { kind: 'sqlite', file: path.join('/srv/ledger', 'ledger.sqlite'), synchronous: 'full' },
      readModel: { kind: 'sqlite', file: path.join('/srv/ledger', 'readmodel.sqlite'), synchronous: 'full' },
      kafka: { kind: 'off' },
      keyStore: { kind: 'sqlite', file: path.join('/srv/ledger', 'keys.db') },
      authStore: { kind: 'sqlite', file: path.join('/srv/ledger', 'auth.sqlite') },
    });
  });

  it('keeps API keys in PostgreSQL when told (its own schema, shared by every host), which needs the PostgreSQL URL', () => {
    const d = ok({
      CRM_LEDGER_AUTH_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: 'postgres://crm:secret@db:5432/crm',
    });
    expect(d.authStore).toMatchObject({
      kind: 'postgres',
      connectionString: 'postgres://crm:secret@db:5432/crm',
    });
    expect(loadServiceConfig({ CRM_LEDGER_AUTH_STORE: 'postgres' })).toEqual(
      E.left([
        expect.stringMatching(/^CRM_LEDGER_POSTGRES_URL: is required when CRM_LEDGER_AUTH_STORE=postgres/),
      ]),
    );
  });

  it('keeps customer keys in PostgreSQL when told (its own schema), which needs the PostgreSQL URL', () => {
    const d = ok({
      CRM_LEDGER_KEY_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: 'postgres://crm:secret@db:5432/crm',
    });
    expect(d.keyStore).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://crm:secret@db:5432/crm',
      schema: 'crm_ledger_keys',
    });
    expect(loadServiceConfig({ CRM_LEDGER_KEY_STORE: 'postgres' })).toEqual(
      E.left([
        'CRM_LEDGER_POSTGRES_URL: is required when CRM_LEDGER_KEY_STORE=postgres, e.g. postgres://user:password@localhost:5432/crm_ledger',
      ]),
    );
  });

  it('never echoes a wrong master key', () => {
    const r = loadServiceConfig({ CRM_LEDGER_MASTER_KEY: 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=' });
    expect(r).toEqual(
      E.left([
        'CRM_LEDGER_MASTER_KEY: must be base64 of 32 random bytes, e.g. from: openssl rand -base64 32, got a value (not shown: it may hold a password)',
      ]),
    );
    const good = Buffer.alloc(32, 1).toString('base64');
    expect(E.isRight(loadServiceConfig({ CRM_LEDGER_MASTER_KEY: good }))).toBe(true);
  });

  it('picks EventStoreDB, PostgreSQL and Kafka when told, with their settings', () => {
    const d = ok({
      CRM_LEDGER_EVENT_STORE: 'eventstoredb',
      CRM_LEDGER_EVENTSTOREDB_URL: 'esdb://n1:2113,n2:2113?tls=true',
      CRM_LEDGER_EVENTSTOREDB_STREAM_PREFIX: 'crmledger.',
      CRM_LEDGER_READ_MODEL_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: 'postgres://crm:secret@db:5432/crm',
      CRM_LEDGER_POSTGRES_SCHEMA: 'ledger_eu',
      CRM_LEDGER_KAFKA_BROKERS: 'k1:9092, k2:9092',
      CRM_LEDGER_KAFKA_TOPIC_LAYOUT: 'single',
      CRM_LEDGER_KAFKA_PARTITIONS: '24',
    });
    expect(d.eventStore).toEqual({
      kind: 'eventstoredb',
      connectionString: 'esdb://n1:2113,n2:2113?tls=true',
      streamPrefix: 'crmledger.',
    });
    expect(d.readModel).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://crm:secret@db:5432/crm',
      schema: 'ledger_eu',
    });
    expect(d.kafka).toEqual({
      kind: 'brokers',
      brokers: ['k1:9092', 'k2:9092'],
      clientId: 'crm-ledger',
      topics: { prefix: 'crm', layout: 'single' },
      partitions: 24,
    });
    expect(describeDeployment(d)).toBe(
      'event store EventStoreDB esdb://n1:2113,n2:2113?tls=true; read models PostgreSQL postgres://crm:***@db:5432/crm schema ledger_eu; Kafka k1:9092,k2:9092',
    );
  });

  it("'off' turns Kafka off explicitly", () => {
    expect(ok({ CRM_LEDGER_KAFKA_BROKERS: 'off' }).kafka).toEqual({ kind: 'off' });
  });

  it('names every wrong variable once, cross-variable rules included', () => {
    const r = loadServiceConfig({
      CRM_LEDGER_EVENT_STORE: 'mongo',
      CRM_LEDGER_READ_MODEL_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_SCHEMA: 'Bad-Name',
      CRM_LEDGER_KAFKA_BROKERS: 'localhost',
      CRM_LEDGER_PORT: 'x',
    });
    expect(r).toEqual(
      E.left([
        "CRM_LEDGER_PORT: must be a port number from 0 to 65535, got 'x'",
        "CRM_LEDGER_EVENT_STORE: must be one of sqlite, eventstoredb, got 'mongo'",
        "CRM_LEDGER_POSTGRES_SCHEMA: must be a schema name: a-z, 0-9 and _, starting with a letter, at most 54, got 'Bad-Name'",
        "CRM_LEDGER_KAFKA_BROKERS: must be 'off' or host:port[,host:port...], got 'localhost'",
        'CRM_LEDGER_POSTGRES_URL: is required when CRM_LEDGER_READ_MODEL_STORE=postgres, e.g. postgres://user:password@localhost:5432/crm_ledger',
      ]),
    );
  });

  it('requires the EventStoreDB connection string only when EventStoreDB is chosen', () => {
    expect(loadServiceConfig({ CRM_LEDGER_EVENT_STORE: 'eventstoredb' })).toEqual(
      E.left([
        'CRM_LEDGER_EVENTSTOREDB_URL: is required when CRM_LEDGER_EVENT_STORE=eventstoredb, e.g. esdb://localhost:2113?tls=false',
      ]),
    );
    expect(E.isRight(loadServiceConfig({ CRM_LEDGER_EVENTSTOREDB_URL: 'esdb://x:2113' }))).toBe(true);
  });

  it('refuses esdb+discover:// with several hosts (the client would gossip with the first only), with the form to write', () => {
    const r = loadServiceConfig({
      CRM_LEDGER_EVENTSTOREDB_URL: 'esdb+discover://n1:2113,n2:2113,n3:2113?tls=true',
    });
    expect(E.isLeft(r) && r.left.join('\n')).toMatch(
      /CRM_LEDGER_EVENTSTOREDB_URL: lists several hosts after esdb\+discover:\/\/.*esdb:\/\/node1:2113,node2:2113,node3:2113/,
    );
    expect(
      E.isRight(loadServiceConfig({ CRM_LEDGER_EVENTSTOREDB_URL: 'esdb+discover://cluster:2113' })),
    ).toBe(true);
    expect(
      E.isRight(
        loadServiceConfig({ CRM_LEDGER_EVENTSTOREDB_URL: 'esdb://n1:2113,n2:2113,n3:2113?tls=true' }),
      ),
    ).toBe(true);
  });

  it('never echoes a connection string that may hold a password', () => {
    const r = loadServiceConfig({
      CRM_LEDGER_READ_MODEL_STORE: 'postgres',
      CRM_LEDGER_POSTGRES_URL: 'mysql://root:hunter2@db/x',
    });
    expect(E.isLeft(r) && r.left).toEqual([
      'CRM_LEDGER_POSTGRES_URL: must be a PostgreSQL URL, e.g. postgres://user:password@localhost:5432/crm_ledger, got a value (not shown: it may hold a password)',
    ]);
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(withoutCredentials('esdb://admin:changeit@node:2113?tls=true')).toBe(
      'esdb://admin:***@node:2113?tls=true',
    );
  });
});
