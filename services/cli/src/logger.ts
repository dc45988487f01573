import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { loggerOptions, type LedgerEnv } from '@crm-ledger/config';

/** How this process writes its logs, `auto` resolved against the terminal. */
export type LogFormat = 'json' | 'pretty';

/** `auto`: readable lines when stdout is a terminal (a person is watching), JSON lines otherwise. */
export function resolveLogFormat(
  format: LedgerEnv['CRM_LEDGER_LOG_FORMAT'],
  isTty: boolean = process.stdout.isTTY === true,
): LogFormat {
  if (format === 'auto') return isTty ? 'pretty' : 'json';
  return format;
}

/**
 * The process's one logger, passed down to everything that logs: JSON lines on stdout (pino's own format, for log
 * shippers), or pino-pretty's readable lines (time, level, component, message) when the format is `pretty`. The
 * redaction of `loggerOptions` applies to both.
 */
export function createLogger(config: LedgerEnv, name: string): Logger {
  const options = loggerOptions(name, config.CRM_LEDGER_LOG_LEVEL);
  if (resolveLogFormat(config.CRM_LEDGER_LOG_FORMAT) === 'json') return pino(options);
  const pretty = PinoPretty({
    colorize: process.stdout.isTTY === true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    hideObject: false,
    singleLine: true,
  });
  return pino(options, pretty);
}
