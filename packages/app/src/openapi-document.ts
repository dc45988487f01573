import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { loadServiceConfig } from '@crm-ledger/config';
import { processSettingsFrom, startProcess, type LedgerRole } from './assemble.js';

/**
 * The OpenAPI document a process of `role` serves at `/openapi.json` (default `all`, i.e. `crm-ledger start`),
 * assembled as its main assembles it, on an empty SQLite ledger in a temporary directory, on a loopback port the
 * system picks; the process is stopped and the directory removed before this returns. No running ledger needed
 * (`pnpm openapi:lint`).
 */
export async function openApiDocument(role: LedgerRole = 'all'): Promise<unknown> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-openapi-'));
  try {
    const env = {
      CRM_LEDGER_DATA_DIR: dataDir,
      CRM_LEDGER_HOST: '127.0.0.1',
      CRM_LEDGER_PORT: '0',
    };
    const config = loadServiceConfig(env);
    if (E.isLeft(config)) throw new Error(config.left.join('\n'));
    const ledger = await startProcess({
      role,
      config: config.right,
      settings: processSettingsFrom(env),
      logger: pino({ level: 'silent' }),
      requestLogging: false,
    });
    try {
      return (await ledger.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    } finally {
      await ledger.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
