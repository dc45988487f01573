import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { LedgerEnv, loadConfig } from '@crm-ledger/config';
import type { EventStore } from '@crm-ledger/core';
import { ingestComponent, startLedger } from '@crm-ledger/app';
import { openSqliteEventStore } from '@crm-ledger/sqlite';

const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real SQLite store, with appends held back so the test can stop the server while one is in flight. */
function slowStore(store: EventStore, onAppendStarted: () => void): EventStore {
  return {
    readStream: (stream, options) => store.readStream(stream, options),
    readAll: (options) => store.readAll(options),
    subscribe: (options) => store.subscribe(options),
    headPosition: () => store.headPosition(),
    positionAt: (time) => store.positionAt(time),
    close: () => store.close(),
    append: async (stream, events, options) => {
      onAppendStarted();
      await new Promise((r) => setTimeout(r, 300));
      return store.append(stream, events, options);
    },
  };
}

describe('graceful shutdown', () => {
  it('finishes an in-flight append before the store closes, and refuses new requests meanwhile', async () => {
    const config = loadConfig(LedgerEnv, {
      CRM_LEDGER_DATA_DIR: dir,
      CRM_LEDGER_PORT: '0',
      CRM_LEDGER_LOG_LEVEL: 'silent',
    });
    if (E.isLeft(config)) throw new Error(config.left.join('\n'));
    let appendStarted!: () => void;
    const started = new Promise<void>((r) => (appendStarted = r));
    const file = path.join(dir, 'ledger.sqlite');
    const ledger = await startLedger({
      config: config.right,
      logger: pino({ level: 'silent' }),
      components: [ingestComponent],
      openStore: () =>
        Promise.resolve({ store: slowStore(openSqliteEventStore({ file }), appendStarted), describe: file }),
    });
    const key = readFileSync(path.join(dir, 'admin.key'), 'utf8').trim();
    const event = {
      eventId: '00000000-0000-4000-8000-000000000001',
      type: 'FeatureAdopted',
      schemaVersion: 1,
      customerId: 'acme',
      occurredAt: '2024-01-01T00:00:00Z',
      data: { feature: 'reports' },
    };
    const inFlight = fetch(`${ledger.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    await started;
    const stopped = ledger.stop();
    const res = await inFlight;
    expect(res.status).toBe(201);
    await stopped;
    await expect(fetch(`${ledger.url}/health`)).rejects.toThrow();
    const reader = openSqliteEventStore({ file });
    expect(await reader.headPosition()).toBe(1);
    await reader.close();
  });
});
