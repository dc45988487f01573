import { pino, type Logger } from 'pino';
import { loggerOptions, type LedgerEnv } from '@crm-ledger/config';

/** The process's one logger (JSON lines on stdout); passed down to everything that logs. */
export function createLogger(config: LedgerEnv, name: string): Logger {
  return pino(loggerOptions(name, config.CRM_LEDGER_LOG_LEVEL));
}
