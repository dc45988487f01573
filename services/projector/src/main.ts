#!/usr/bin/env node
import path from 'node:path';
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { LedgerEnv, loadConfig } from '@crm-ledger/config';
import { onShutdownSignal } from '@crm-ledger/http-kit';
import { projectorComponent } from '@crm-ledger/projector';
import { queryApiComponent, queryEnv } from '@crm-ledger/query-api';
import { startLedger } from '@crm-ledger/runtime';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';

new Command('crm-ledger-projector')
  .description(
    'The read side as a standalone process: the projector keeps <data-dir>/readmodel.sqlite up to date from the\n' +
      'SQLite event store (<data-dir>/ledger.sqlite, written by crm-ledger start or crm-ledger-ingest), and the query API\n' +
      'serves it. Configured by environment variables only:\n' +
      '  CRM_LEDGER_DATA_DIR (./.data), CRM_LEDGER_HOST (127.0.0.1), CRM_LEDGER_PORT (4100), CRM_LEDGER_LOG_LEVEL (info),\n' +
      '  CRM_LEDGER_SQLITE_SYNCHRONOUS (full), CRM_LEDGER_HEALTH_WEIGHTS (JSON weights of the health score).',
  )
  .action(async () => {
    const config = loadConfig(LedgerEnv, process.env);
    if (E.isLeft(config)) {
      process.stderr.write(
        `crm-ledger-projector: invalid configuration:\n${config.left.map((l) => `  ${l}`).join('\n')}\n`,
      );
      process.exit(2);
    }
    try {
      queryEnv(process.env); // fail fast, before opening anything, on wrong query settings
    } catch (err) {
      process.stderr.write(`crm-ledger-projector: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    }
    const logger = pino({ name: 'crm-ledger-projector', level: config.right.CRM_LEDGER_LOG_LEVEL });
    const ledger = await startLedger({
      config: config.right,
      logger,
      components: [projectorComponent, queryApiComponent],
      openStore: (dataDir) => {
        const file = path.join(dataDir, 'ledger.sqlite');
        const store = openSqliteEventStore({ file, synchronous: config.right.CRM_LEDGER_SQLITE_SYNCHRONOUS });
        return Promise.resolve({ store, describe: `event store ${file} (SQLite)` });
      },
    });
    onShutdownSignal(logger, () => ledger.stop());
    logger.info(
      { url: ledger.url, dataDir: ledger.dataDir },
      `projector running, query API listening on ${ledger.url}; ${ledger.storeDescription}`,
    );
  })
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(
      `crm-ledger-projector: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
