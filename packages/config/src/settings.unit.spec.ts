import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadProgramConfig } from './config.js';
import { ServiceEnv, deploymentOf, loadServiceConfig } from './deployment.js';
import { FLAG_NAMES, environmentHelp, flagValues, settingOption } from './help.js';
import {
  PROGRAMS,
  SETTING_NAMES,
  programSchema,
  settingOf,
  settingsUsedBy,
  type Program,
} from './settings.js';
import { envBoolean, envInt } from './values.js';

describe('SETTINGS: every setting declared once', () => {
  it('gives each setting a type that accepts its own default, a description and a group', () => {
    for (const name of SETTING_NAMES) {
      const s = settingOf(name);
      expect(s.description.length, name).toBeGreaterThan(5);
      expect(s.description, name).not.toContain('\n');
      if (s.default !== undefined) expect(s.type.safeParse(s.default).success, name).toBe(true);
      for (const p of s.requiredBy ?? []) expect(s.usedBy, name).toContain(p);
    }
  });

  it('derives each program schema from usedBy', () => {
    for (const program of Object.keys(PROGRAMS) as Program[])
      expect(Object.keys(programSchema(program).shape)).toEqual(settingsUsedBy(program));
    expect(settingsUsedBy('example')).toEqual([
      'CRM_LEDGER_LOG_LEVEL',
      'CRM_LEDGER_KAFKA_BROKERS',
      'CRM_LEDGER_KAFKA_TOPIC_PREFIX',
      'CRM_LEDGER_KAFKA_TOPIC_LAYOUT',
      'CRM_LEDGER_EXAMPLE_GROUP_ID',
    ]);
  });
});

describe('the Kafka settings: one schema', () => {
  it("reads 'off' and unset as Kafka off where Kafka is optional", () => {
    for (const env of [{}, { CRM_LEDGER_KAFKA_BROKERS: 'off' }]) {
      const r = loadServiceConfig(env);
      expect(E.isRight(r) && deploymentOf(r.right).kafka).toEqual({ kind: 'off' });
    }
    const r = loadServiceConfig({ CRM_LEDGER_KAFKA_BROKERS: 'a:9092, b:9093' });
    expect(E.isRight(r) && r.right.CRM_LEDGER_KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
  });

  it('refuses off or unset in the programs that need brokers, with the same message for a wrong list', () => {
    for (const program of ['relay', 'inbound', 'example'] as const) {
      for (const env of [{}, { CRM_LEDGER_KAFKA_BROKERS: 'off' }])
        expect(loadProgramConfig(program, env), program).toEqual(
          E.left(['CRM_LEDGER_KAFKA_BROKERS: is required: bootstrap brokers, comma-separated host:port']),
        );
      expect(loadProgramConfig(program, { CRM_LEDGER_KAFKA_BROKERS: 'nohost' })).toEqual(
        E.left(["CRM_LEDGER_KAFKA_BROKERS: must be 'off' or host:port[,host:port...], got 'nohost'"]),
      );
    }
    expect(loadServiceConfig({ CRM_LEDGER_KAFKA_BROKERS: 'nohost' })).toEqual(
      E.left(["CRM_LEDGER_KAFKA_BROKERS: must be 'off' or host:port[,host:port...], got 'nohost'"]),
    );
  });
});

describe('values', () => {
  it('reads integers and booleans with one message per wrong value', () => {
    const schema = ServiceEnv.pick({ CRM_LEDGER_PORT: true });
    expect(loadConfig(schema, { CRM_LEDGER_PORT: '12.5' })).toEqual(
      E.left(["CRM_LEDGER_PORT: must be a port number from 0 to 65535, got '12.5'"]),
    );
    expect(
      envInt(1, 3, 'one to three')
        .safeParse('4')
        .error?.issues.map((i) => i.message),
    ).toEqual(['must be one to three']);
    expect(['true', 'YES', '1', 'off'].map((v) => envBoolean.parse(v))).toEqual([true, true, true, false]);
    expect(envBoolean.safeParse('maybe').error?.issues.map((i) => i.message)).toEqual([
      'must be true or false',
    ]);
  });

  it('never echoes a secret, whichever schema reads it', () => {
    expect(
      loadProgramConfig('inbound', { CRM_LEDGER_KAFKA_BROKERS: 'k:9092', CRM_LEDGER_MASTER_KEY: 'short' }),
    ).toEqual(
      E.left([
        'CRM_LEDGER_MASTER_KEY: must be base64 of 32 random bytes, e.g. from: openssl rand -base64 32, got a value (not shown: it may hold a password)',
      ]),
    );
  });
});

describe('--help from the declarations', () => {
  it('builds the CLI options with their variable and default', () => {
    expect(settingOption('CRM_LEDGER_PORT')).toEqual({
      flags: '--port <port>',
      description: 'port to listen on, 0 for any free port (env CRM_LEDGER_PORT, default 4100)',
    });
    expect(settingOption('CRM_LEDGER_DATA_DIR').description).toBe(
      'data directory (env CRM_LEDGER_DATA_DIR, default ./.data)',
    );
    expect(() => settingOption('CRM_LEDGER_RELAY_MODE')).toThrow(/no flag/);
    expect(FLAG_NAMES['CRM_LEDGER_MAX_EVENTS_PER_BATCH']).toBe('--max-events-per-batch');
    expect(flagValues({ dataDir: '/d', port: 5, seedCustomers: '3' })).toMatchObject({
      CRM_LEDGER_DATA_DIR: '/d',
      CRM_LEDGER_PORT: '5',
      CRM_LEDGER_HOST: undefined,
    });
  });

  it('lists every setting a program reads, required ones marked', () => {
    const help = environmentHelp('relay');
    for (const name of settingsUsedBy('relay')) expect(help).toContain(name);
    expect(help).not.toContain('CRM_LEDGER_PORT');
    expect(help).toMatch(
      /CRM_LEDGER_KAFKA_BROKERS +bootstrap brokers, comma-separated host:port \(required\)/,
    );
    expect(help).toMatch(/CRM_LEDGER_RELAY_RETRIES +.* \(default 8\)/);
  });
});
