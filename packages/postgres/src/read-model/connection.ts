import pg from 'pg';
import { POSTGRES_CONNECTION_SETTINGS } from '@crm-ledger/core';

/** Swallows a connection's asynchronous error: whoever runs the next query on it gets the error instead. */
const ignore = (): void => undefined;

/**
 * A pool with the ledger's failure detection (`POSTGRES_CONNECTION_SETTINGS`: keepalives, statement, lock and
 * idle-in-transaction timeouts) and an `'error'` handler on the pool and on every connection it opens. Without
 * them, a connection killed while idle in the pool, or checked out between two queries, emits an unhandled
 * `'error'` and ends the process; with them, the failed query rejects, the caller retries, and the pool
 * discards the dead connection.
 */
export function resilientPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ ...POSTGRES_CONNECTION_SETTINGS, ...config });
  pool.on('error', ignore);
  pool.on('connect', (client) => client.on('error', ignore));
  return pool;
}
