#!/usr/bin/env node
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { deploymentOf, describeDeployment, loadServiceConfig, loggerOptions } from '@crm-ledger/config';
import { onShutdownSignal } from '@crm-ledger/http-kit';
import { queryApiComponent, queryEnv } from '@crm-ledger/query-api';
import { startLedger } from '@crm-ledger/runtime';
import { openEventStore, openReadModelStore, openVault, withEncryption } from '@crm-ledger/stores';

new Command('crm-ledger-query')
  .description(
    'The query API alone: serves the views from the read models a projector keeps up to date (crm-ledger-projector\n' +
      'or crm-ledger start). Stateless: run as many as needed. Configured by environment variables only:\n' +
      '  CRM_LEDGER_DATA_DIR (./.data, holds the API keys), CRM_LEDGER_HOST (127.0.0.1), CRM_LEDGER_PORT (4100),\n' +
      '  CRM_LEDGER_LOG_LEVEL (info), CRM_LEDGER_HEALTH_WEIGHTS, CRM_LEDGER_EVENT_STORE (sqlite | eventstoredb, for\n' +
      '  "as of" queries), CRM_LEDGER_READ_MODEL_STORE (sqlite | postgres), CRM_LEDGER_KEY_STORE (sqlite | postgres)\n' +
      '  and CRM_LEDGER_MASTER_KEY (to show personal data in the customer 360), and their connection settings:\n' +
      '  see docs/configuration.md.',
  )
  .action(async () => {
    const config = loadServiceConfig(process.env);
    if (E.isLeft(config)) {
      process.stderr.write(
        `crm-ledger-query: invalid configuration:\n${config.left.map((l) => `  ${l}`).join('\n')}\n`,
      );
      process.exit(2);
    }
    try {
      queryEnv(process.env); // fail fast, before opening anything, on wrong query settings
    } catch (err) {
      process.stderr.write(`crm-ledger-query: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    }
    const logger = pino(loggerOptions('crm-ledger-query', config.right.CRM_LEDGER_LOG_LEVEL));
    const deploymentIn = (dataDir: string) => deploymentOf({ ...config.right, CRM_LEDGER_DATA_DIR: dataDir });
    const ledger = await startLedger({
      config: config.right,
      logger,
      components: [queryApiComponent],
      openStore: async (dataDir) => {
        const deployment = deploymentIn(dataDir);
        // the customer 360 decrypts personal fields with the customer keys (null once erased)
        const opened = await openVault(deployment, config.right.CRM_LEDGER_MASTER_KEY);
        const store = withEncryption(openEventStore(deployment.eventStore), opened, { validate: true });
        return {
          store,
          vault: opened.vault,
          describe: `${describeDeployment(deployment).split('; ').slice(0, 2).join('; ')}; ${opened.describe}`,
        };
      },
      openReadModel: (dataDir) => openReadModelStore(deploymentIn(dataDir).readModel),
    });
    onShutdownSignal(logger, () => ledger.stop());
    logger.info({ url: ledger.url }, `query API listening on ${ledger.url}; ${ledger.storeDescription}`);
  })
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(
      `crm-ledger-query: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
