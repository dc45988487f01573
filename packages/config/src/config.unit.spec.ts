import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { LedgerEnv, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(loadConfig(LedgerEnv, {})).toEqual(
      E.right({
        CRM_LEDGER_DATA_DIR: './.data',
        CRM_LEDGER_HOST: '127.0.0.1',
        CRM_LEDGER_PORT: 4100,
        CRM_LEDGER_LOG_LEVEL: 'info',
        CRM_LEDGER_LOG_FORMAT: 'auto',
        CRM_LEDGER_SQLITE_SYNCHRONOUS: 'full',
        CRM_LEDGER_BODY_LIMIT: 4 * 1024 * 1024,
        CRM_LEDGER_MAX_EVENTS_PER_BATCH: 1000,
        CRM_LEDGER_RATE_LIMIT_MAX: 6000,
        CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS: 60,
        CRM_LEDGER_CUSTOMER_ID_POLICY: 'opaque',
        CRM_LEDGER_REQUEST_TIMEOUT_SECONDS: 30,
        CRM_LEDGER_HEADERS_TIMEOUT_SECONDS: 10,
        CRM_LEDGER_KEEP_ALIVE_TIMEOUT_SECONDS: 5,
        CRM_LEDGER_MAX_CONCURRENT_PER_KEY: 4,
        CRM_LEDGER_MAX_CONCURRENT_QUERIES: 16,
        CRM_LEDGER_MAX_EVENTS_PER_CUSTOMER: 1_000_000,
      }),
    );
  });

  it('lets flags win over the environment and parses sizes', () => {
    const r = loadConfig(
      LedgerEnv,
      { CRM_LEDGER_PORT: '5000', CRM_LEDGER_BODY_LIMIT: '512kb' },
      { CRM_LEDGER_PORT: 6000 },
    );
    expect(E.isRight(r) && [r.right.CRM_LEDGER_PORT, r.right.CRM_LEDGER_BODY_LIMIT]).toEqual([
      6000,
      512 * 1024,
    ]);
  });

  it('names every wrong value once, with its flag and what it got', () => {
    const r = loadConfig(
      LedgerEnv,
      { CRM_LEDGER_PORT: 'abc', CRM_LEDGER_LOG_LEVEL: 'loud', CRM_LEDGER_MAX_EVENTS_PER_BATCH: '0' },
      {},
      { CRM_LEDGER_PORT: '--port' },
    );
    expect(r).toEqual(
      E.left([
        "CRM_LEDGER_PORT (--port): must be a port number from 0 to 65535, got 'abc'",
        "CRM_LEDGER_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
        "CRM_LEDGER_MAX_EVENTS_PER_BATCH: must be a whole number from 1 to 10000, got '0'",
      ]),
    );
  });

  it('treats empty strings as unset', () => {
    const r = loadConfig(LedgerEnv, { CRM_LEDGER_PORT: '' });
    expect(E.isRight(r) && r.right.CRM_LEDGER_PORT).toBe(4100);
  });

  it('reads the per-key rate limit (0 = off) and rejects a wrong window', () => {
    const r = loadConfig(LedgerEnv, {
      CRM_LEDGER_RATE_LIMIT_MAX: '0',
      CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS: '10',
    });
    expect(
      E.isRight(r) && [r.right.CRM_LEDGER_RATE_LIMIT_MAX, r.right.CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS],
    ).toEqual([0, 10]);
    expect(loadConfig(LedgerEnv, { CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS: '0' })).toEqual(
      E.left(["CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS: must be a number of seconds from 1 to 86400, got '0'"]),
    );
  });
});
