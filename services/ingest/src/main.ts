#!/usr/bin/env node
import { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { deploymentOf, describeDeployment, loadServiceConfig, loggerOptions } from '@crm-ledger/config';
import { onShutdownSignal } from '@crm-ledger/http-kit';
import { catalogueComponents, ingestComponent } from '@crm-ledger/ingest-api';
import { shredderComponent, startLedger } from '@crm-ledger/runtime';
import { openEventStore, openVault, withEncryption } from '@crm-ledger/stores';

new Command('crm-ledger-ingest')
  .description(
    'The ingest API as a standalone process. Configured by environment variables only:\n' +
      '  CRM_LEDGER_DATA_DIR (./.data), CRM_LEDGER_HOST (127.0.0.1), CRM_LEDGER_PORT (4100), CRM_LEDGER_LOG_LEVEL (info),\n' +
      '  CRM_LEDGER_SQLITE_SYNCHRONOUS (full), CRM_LEDGER_BODY_LIMIT (4mb), CRM_LEDGER_MAX_EVENTS_PER_BATCH (1000),\n' +
      '  CRM_LEDGER_EVENT_STORE (sqlite | eventstoredb) and CRM_LEDGER_EVENTSTOREDB_URL,\n' +
      '  CRM_LEDGER_KEY_STORE (sqlite | postgres), CRM_LEDGER_MASTER_KEY: see docs/configuration.md.',
  )
  .action(async () => {
    const config = loadServiceConfig(process.env);
    if (E.isLeft(config)) {
      process.stderr.write(
        `crm-ledger-ingest: invalid configuration:\n${config.left.map((l) => `  ${l}`).join('\n')}\n`,
      );
      process.exit(2);
    }
    const logger = pino(loggerOptions('crm-ledger-ingest', config.right.CRM_LEDGER_LOG_LEVEL));
    const ledger = await startLedger({
      config: config.right,
      logger,
      components: [shredderComponent, ingestComponent],
      extraSchemas: catalogueComponents(),
      openStore: async (dataDir) => {
        const deployment = deploymentOf({ ...config.right, CRM_LEDGER_DATA_DIR: dataDir });
        const opened = await openVault(deployment, config.right.CRM_LEDGER_MASTER_KEY);
        // the ingest API validates every event against the catalogue before appending; personal fields are
        // encrypted with the customer's key before they reach the store
        const store = withEncryption(
          openEventStore(deployment.eventStore, { validation: 'envelope' }),
          opened,
          {
            validate: false,
          },
        );
        const describe = `${describeDeployment(deployment).split('; ')[0]!}; ${opened.describe}`;
        return { store, describe, vault: opened.vault };
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
