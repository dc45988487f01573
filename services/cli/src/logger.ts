import { pino, type Logger } from 'pino';
import type { LedgerEnv } from '@crm-ledger/config';

/** The process's one logger (JSON lines on stdout); passed down to everything that logs. */
export function createLogger(config: LedgerEnv, name: string): Logger {
  return pino({ name, level: config.CRM_LEDGER_LOG_LEVEL });
}
