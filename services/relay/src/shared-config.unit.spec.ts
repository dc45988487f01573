import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { parseConfig, withSharedDefaults } from './config.js';

describe('the relay reads the shared crm-ledger configuration too', () => {
  it('takes brokers, topics and the SQLite ledger from CRM_LEDGER_* when its own variables are unset', () => {
    const r = parseConfig(
      withSharedDefaults({
        CRM_LEDGER_DATA_DIR: '/srv/ledger',
        CRM_LEDGER_KAFKA_BROKERS: 'k1:9092,k2:9092',
        CRM_LEDGER_KAFKA_TOPIC_PREFIX: 'acme',
        CRM_LEDGER_KAFKA_PARTITIONS: '24',
      }),
    );
    expect(E.isRight(r) && r.right).toMatchObject({
      LEDGER_FILE: '/srv/ledger/ledger.sqlite',
      RELAY_CHECKPOINT_FILE: '/srv/ledger/relay-checkpoints.db',
      KAFKA_BROKERS: ['k1:9092', 'k2:9092'],
      RELAY_TOPIC_PREFIX: 'acme',
      RELAY_PARTITIONS: 24,
    });
  });

  it("its own variables win; EventStoreDB needs no LEDGER_FILE; without either it says what's missing", () => {
    const own = parseConfig(
      withSharedDefaults({
        LEDGER_FILE: '/a/l.sqlite',
        KAFKA_BROKERS: 'x:1',
        CRM_LEDGER_KAFKA_BROKERS: 'y:2',
      }),
    );
    expect(E.isRight(own) && [own.right.LEDGER_FILE, own.right.KAFKA_BROKERS]).toEqual([
      '/a/l.sqlite',
      ['x:1'],
    ]);
    const esdb = parseConfig(
      withSharedDefaults({ CRM_LEDGER_EVENT_STORE: 'eventstoredb', CRM_LEDGER_KAFKA_BROKERS: 'k:9092' }),
    );
    expect(E.isRight(esdb) && esdb.right.LEDGER_FILE).toBeUndefined();
    const none = parseConfig(withSharedDefaults({ KAFKA_BROKERS: 'k:9092' }));
    expect(E.isLeft(none) && none.left.join('\n')).toContain('LEDGER_FILE: is required');
  });
});
