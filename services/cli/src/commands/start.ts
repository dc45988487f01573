import path from 'node:path';
import { Command } from 'commander';
import { environmentHelp, settingOf, settingsUsedBy } from '@crm-ledger/config';
import { onShutdownSignal, processSettingsFrom, startProcess } from '@crm-ledger/app';
import type { ProjectionLag } from '@crm-ledger/http-kit';
import { createLogger, resolveLogFormat } from '../logger.js';
import { defaultDemoEnd, seedStore } from '../seeding.js';
import { option, positiveInt, settingsFrom, type SharedFlags } from '../settings.js';
import { dataDirOption, settingOptions, syncOption } from './shared.js';

/** The settings of `start` that have no flag, listed after its options. */
const START_ENV_ONLY = settingsUsedBy('cli').filter(
  (n) => settingOf(n).flag === undefined && settingOf(n).group !== 'Commands of `crm-ledger`',
);

export function startCommand(): Command {
  return settingOptions(
    dataDirOption(syncOption(new Command('start'))),
    'CRM_LEDGER_HOST',
    'CRM_LEDGER_PORT',
    'CRM_LEDGER_LOG_LEVEL',
    'CRM_LEDGER_LOG_FORMAT',
    'CRM_LEDGER_BODY_LIMIT',
    'CRM_LEDGER_MAX_EVENTS_PER_BATCH',
  )
    .description(
      'Run the whole ledger in one process on the embedded default: the SQLite event store in the data directory, ' +
        'the ingest API (and the projections and query API once they exist). On first start an admin API key is ' +
        'written to <data-dir>/admin.key.',
    )
    .addHelpText('after', () => `\n${environmentHelp('cli', START_ENV_ONLY)}`)
    .option('--seed-if-empty', 'write the synthetic demo history when the event store is empty')
    .option('--seed-customers <n>', 'customers of the demo history (about 100 events each)', '1000')
    .action(async (opts: SharedFlags & { seedIfEmpty?: boolean; seedCustomers: string }) => {
      const config = settingsFrom(opts);
      // the components' settings (query API, notary, CLV refit), as every process the root assembles reads them
      const own = processSettingsFrom(process.env);
      const seedCustomers = option('--seed-customers', positiveInt(100_000), opts.seedCustomers);
      const logger = createLogger(config, 'crm-ledger');
      let seeded = '';
      const pretty = resolveLogFormat(config.CRM_LEDGER_LOG_FORMAT) === 'pretty';
      const ledger = await startProcess({
        role: 'all',
        config,
        logger,
        requestLogging: !pretty,
        settings: own,
        beforeListen: async (store) => {
          if (opts.seedIfEmpty !== true || (await store.headPosition()) > 0) return;
          process.stderr.write(
            `the event store is empty: seeding a demo history of ${seedCustomers} customers...\n`,
          );
          const s = await seedStore(store, {
            customers: seedCustomers,
            seed: 1,
            end: defaultDemoEnd(new Date()),
            progress: true,
          });
          seeded = `seeded the empty store with ${s.appended} demo events of ${s.customers} customers`;
        },
      });
      const statusStop = new AbortController();
      onShutdownSignal(logger, () => {
        statusStop.abort();
        return ledger.stop();
      });
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
      // A person watching: a short live status while the views catch up, then one line when they have.
      if (pretty && process.stdout.isTTY === true) followCatchUp(() => ledger.lag(), statusStop.signal);
    });
}

/** How often the live status is printed while the views catch up. */
const STATUS_EVERY_MS = 3_000;

/**
 * One readable line every few seconds on the terminal while the projection lags (`status: 12,345 events in the
 * ledger · views caught up 2/4 · behind: service 1,200, value 800`), one line when every view has caught up, then
 * silence. Nothing when the process runs no projector; a failed read is retried at the next tick.
 */
function followCatchUp(lag: () => Promise<ProjectionLag | undefined>, stopped: AbortSignal): void {
  const n = (x: number) => x.toLocaleString('en-US');
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    if (stopped.aborted) return;
    const now = await lag().catch(() => null);
    if (now === undefined) return;
    if (now !== null) {
      const behind = now.views.filter((v) => v.events > 0);
      const caughtUp = now.views.length - behind.length;
      if (behind.length === 0) {
        process.stdout.write(
          `status: ${n(now.head)} events in the ledger · all ${now.views.length} views caught up\n`,
        );
        return;
      }
      process.stdout.write(
        `status: ${n(now.head)} events in the ledger · views caught up ${caughtUp}/${now.views.length} · behind: ` +
          `${behind.map((v) => `${v.view} ${n(v.events)}`).join(', ')}\n`,
      );
    }
    timer = setTimeout(() => void tick(), STATUS_EVERY_MS);
    timer.unref();
  };
  stopped.addEventListener('abort', () => clearTimeout(timer), { once: true });
  void tick();
}
