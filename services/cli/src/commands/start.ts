import path from 'node:path';
import { Command } from 'commander';
import { catalogueComponents } from '@crm-ledger/ingest-api';
import { onShutdownSignal } from '@crm-ledger/http-kit';
import { deploymentOf } from '@crm-ledger/config';
import { startLedger } from '@crm-ledger/runtime';
import { openDigestStore } from '@crm-ledger/stores';
import { components } from '../components.js';
import { notaryComponent } from '../notary.js';
import { createLogger } from '../logger.js';
import { seedStore } from '../seeding.js';
import { openReadModel, openStore } from '../store.js';
import { option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption, syncOption } from './shared.js';

export function startCommand(): Command {
  return dataDirOption(syncOption(new Command('start')))
    .description(
      'Run the whole ledger in one process on the embedded default: the SQLite event store in the data directory, ' +
        'the ingest API (and the projections and query API once they exist). On first start an admin API key is ' +
        'written to <data-dir>/admin.key.',
    )
    .option('--host <host>', 'interface to listen on (env CRM_LEDGER_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free port (env CRM_LEDGER_PORT, default 4100)')
    .option(
      '--log-level <level>',
      'fatal | error | warn | info | debug | trace | silent (env CRM_LEDGER_LOG_LEVEL, default info)',
    )
    .option('--body-limit <size>', 'largest request body, e.g. 4mb (env CRM_LEDGER_BODY_LIMIT)')
    .option(
      '--max-events-per-batch <n>',
      'most events per request (env CRM_LEDGER_MAX_EVENTS_PER_BATCH, default 1000)',
    )
    .option('--seed-if-empty', 'write the synthetic demo history when the event store is empty')
    .option('--seed-customers <n>', 'customers of the demo history (about 100 events each)', '1000')
    .action(async (opts: SharedFlags & { seedIfEmpty?: boolean; seedCustomers: string }) => {
      const config = settingsFrom(opts);
      const seedCustomers = option('--seed-customers', positiveInt(100_000), opts.seedCustomers);
      const logger = createLogger(config, 'crm-ledger');
      let seeded = '';
      const ledger = await startLedger({
        config,
        logger,
        components: [
          ...components,
          notaryComponent((dataDir) =>
            openDigestStore(deploymentOf({ ...config, CRM_LEDGER_DATA_DIR: dataDir })),
          ),
        ],
        openStore: (dataDir) => openStore(config, dataDir),
        openReadModel: (dataDir) => openReadModel(config, dataDir),
        extraSchemas: catalogueComponents(),
        beforeListen: async (store) => {
          if (opts.seedIfEmpty !== true || (await store.headPosition()) > 0) return;
          process.stderr.write(
            `the event store is empty: seeding a demo history of ${seedCustomers} customers...\n`,
          );
          const s = await seedStore(store, { customers: seedCustomers, seed: 1, progress: true });
          seeded = `seeded the empty store with ${s.appended} demo events of ${s.customers} customers`;
        },
      });
      onShutdownSignal(logger, () => ledger.stop());
      const rel = (p: string) => path.relative(process.cwd(), p) || '.';
      const lines = [
        `crm-ledger listening on ${ledger.url}`,
        `  dashboard: ${ledger.url}/dashboard/ (asks for an API key with the read scope)`,
        ...ledger.descriptions.map((d) => `  ${d}`),
        `  health: GET /health, /ready · OpenAPI: GET /openapi.json`,
        `  data in ${ledger.dataDir}: ${ledger.storeDescription}`,
        ...(seeded === '' ? [] : [`  ${seeded}`]),
        ledger.adminKeyFile === undefined
          ? `  API keys: ${rel(path.join(ledger.dataDir, 'api-keys.json'))} (crm-ledger keys list)`
          : `  first start: admin API key written to ${rel(ledger.adminKeyFile)} (mode 0600), try:\n` +
            `    curl -H "Authorization: Bearer $(cat ${rel(ledger.adminKeyFile)})" ${ledger.url}/ready`,
        `  stop with Ctrl-C (in-flight requests finish first)`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
      logger.info({ url: ledger.url, dataDir: ledger.dataDir }, 'crm-ledger started');
    });
}
