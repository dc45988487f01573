import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LedgerEnv } from '@crm-ledger/config';
import type { EventStore } from '@crm-ledger/core';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';

/** The embedded default: one SQLite file in the data directory. Other stores plug in here. */
export function sqliteFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'ledger.sqlite');
}

export function openStore(
  config: LedgerEnv,
  dataDir: string,
): Promise<{ store: EventStore; describe: string }> {
  const file = sqliteFile(dataDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const store = openSqliteEventStore({
    file,
    synchronous: config.CRM_LEDGER_SQLITE_SYNCHRONOUS,
    // the ingest API and the importers validate every event against the catalogue before appending
    validation: 'envelope',
  });
  return Promise.resolve({
    store,
    describe: `event store ${file} (SQLite, synchronous=${config.CRM_LEDGER_SQLITE_SYNCHRONOUS})`,
  });
}
