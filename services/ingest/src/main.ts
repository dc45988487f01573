#!/usr/bin/env node
import path from 'node:path';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { LedgerEnv, loadConfig } from '@crm-ledger/config';
import { onShutdownSignal } from '@crm-ledger/http-kit';
import { ingestComponent } from '@crm-ledger/ingest-api';
import { startLedger } from '@crm-ledger/runtime';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';

new Command('crm-ledger-ingest')
  .description(
    'The ingest API as a standalone process on the SQLite event store. Configured by environment variables only:\n' +
      '  CRM_LEDGER_DATA_DIR (./.data), CRM_LEDGER_HOST (127.0.0.1), CRM_LEDGER_PORT (4100), CRM_LEDGER_LOG_LEVEL (info),\n' +
      '  CRM_LEDGER_SQLITE_SYNCHRONOUS (full), CRM_LEDGER_BODY_LIMIT (4mb), CRM_LEDGER_MAX_EVENTS_PER_BATCH (1000).',
  )
  .action(async () => {
    const config = loadConfig(LedgerEnv, process.env);
    if (E.isLeft(config)) {
      process.stderr.write(
        `crm-ledger-ingest: invalid configuration:\n${config.left.map((l) => `  ${l}`).join('\n')}\n`,
      );
      process.exit(2);
    }
    const logger = pino({ name: 'crm-ledger-ingest', level: config.right.CRM_LEDGER_LOG_LEVEL });
    const ledger = await startLedger({
      config: config.right,
      logger,
      components: [ingestComponent],
      openStore: (dataDir) => {
        const file = path.join(dataDir, 'ledger.sqlite');
        const store = openSqliteEventStore({
          file,
          synchronous: config.right.CRM_LEDGER_SQLITE_SYNCHRONOUS,
          validation: 'envelope',
        });
        return Promise.resolve({ store, describe: `event store ${file} (SQLite)` });
      },
    });
    onShutdownSignal(logger, () => ledger.stop());
    logger.info(
      { url: ledger.url, dataDir: ledger.dataDir, adminKeyFile: ledger.adminKeyFile },
      `ingest API listening on ${ledger.url}; ${ledger.storeDescription}`,
    );
  })
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(
      `crm-ledger-ingest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
