#!/usr/bin/env node
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { deploymentOf, describeDeployment, loadServiceConfig, loggerOptions } from '@crm-ledger/config';
import { onShutdownSignal } from '@crm-ledger/http-kit';
import { projectorComponent } from '@crm-ledger/projector';
import { queryApiComponent, queryEnv } from '@crm-ledger/query-api';
import { startLedger } from '@crm-ledger/runtime';
import { openEventStore, openReadModelStore } from '@crm-ledger/stores';

new Command('crm-ledger-projector')
  .description(
    'The read side as a standalone process: the projector keeps <data-dir>/readmodel.sqlite up to date from the\n' +
      'SQLite event store (<data-dir>/ledger.sqlite, written by crm-ledger start or crm-ledger-ingest), and the query API\n' +
      'serves it. Configured by environment variables only:\n' +
      '  CRM_LEDGER_DATA_DIR (./.data), CRM_LEDGER_HOST (127.0.0.1), CRM_LEDGER_PORT (4100), CRM_LEDGER_LOG_LEVEL (info),\n' +
      '  CRM_LEDGER_SQLITE_SYNCHRONOUS (full), CRM_LEDGER_HEALTH_WEIGHTS (JSON weights of the health score),\n' +
      '  CRM_LEDGER_EVENT_STORE (sqlite | eventstoredb), CRM_LEDGER_READ_MODEL_STORE (sqlite | postgres) and their\n' +
      '  connection settings: see docs/configuration.md.',
  )
  .action(async () => {
    const config = loadServiceConfig(process.env);
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
    const logger = pino(loggerOptions('crm-ledger-projector', config.right.CRM_LEDGER_LOG_LEVEL));
    const ledger = await startLedger({
      config: config.right,
      logger,
      components: [projectorComponent, queryApiComponent],
      openStore: (dataDir) => {
        const deployment = deploymentOf({ ...config.right, CRM_LEDGER_DATA_DIR: dataDir });
        const store = openEventStore(deployment.eventStore);
        const where = describeDeployment(deployment).split('; ').slice(0, 2).join('; ');
        return Promise.resolve({ store, describe: where });
      },
      openReadModel: (dataDir) =>
        openReadModelStore(deploymentOf({ ...config.right, CRM_LEDGER_DATA_DIR: dataDir }).readModel),
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
