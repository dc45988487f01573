import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('fills the defaults around the required broker list', () => {
    expect(
      parseConfig({ CRM_LEDGER_KAFKA_BROKERS: 'a:9092, b:9093', CRM_LEDGER_DATA_DIR: '/var/crm' }),
    ).toMatchObject({
      _tag: 'Right',
      right: {
        CRM_LEDGER_KAFKA_BROKERS: ['a:9092', 'b:9093'],
        CRM_LEDGER_KAFKA_TOPIC_PREFIX: 'crm',
        CRM_LEDGER_KAFKA_TOPIC_LAYOUT: 'per-area',
        CRM_LEDGER_KAFKA_PARTITIONS: 6,
        CRM_LEDGER_RELAY_NAME: 'kafka-relay',
        CRM_LEDGER_RELAY_MODE: 'follow',
        CRM_LEDGER_RELAY_BATCH_SIZE: 2000,
        CRM_LEDGER_RELAY_RETRIES: 8,
        ledgerFile: path.join('/var/crm', 'ledger.sqlite'),
        checkpointFile: path.join('/var/crm', 'relay-checkpoints.sqlite'),
      },
    });
  });

  it('names every wrong variable, with what it got', () => {
    const result = parseConfig({
      CRM_LEDGER_KAFKA_BROKERS: 'no-port',
      CRM_LEDGER_KAFKA_PARTITIONS: '0',
      CRM_LEDGER_RELAY_MODE: 'sometimes',
      CRM_LEDGER_RELAY_RETRIES: '1000',
    });
    expect(result._tag).toBe('Left');
    const lines = result._tag === 'Left' ? result.left.join('\n') : '';
    expect(lines).toContain(
      "CRM_LEDGER_KAFKA_BROKERS: must be 'off' or host:port[,host:port...], got 'no-port'",
    );
    expect(lines).toContain("CRM_LEDGER_KAFKA_PARTITIONS: must be a whole number from 1 to 1000, got '0'");
    expect(lines).toContain("CRM_LEDGER_RELAY_MODE: must be one of follow, catch-up, got 'sometimes'");
    expect(lines).toContain("CRM_LEDGER_RELAY_RETRIES: must be a whole number from 1 to 100, got '1000'");
  });

  it('documents every variable in --help', () => {
    for (const name of [
      'CRM_LEDGER_DATA_DIR',
      'CRM_LEDGER_KAFKA_BROKERS',
      'CRM_LEDGER_RELAY_CHECKPOINT_FILE',
    ]) {
      expect(helpText()).toContain(name);
    }
  });
});
