import type pg from 'pg';

/** A held lock: release it when the runner stops (closing its connection releases it too). */
export interface RunnerLock {
  readonly key: string;
  release(): Promise<void>;
}

/**
 * One active runner per projection across processes: a PostgreSQL session-level advisory lock on
 * `crm-ledger:<schema>:<name>`, held on a dedicated connection for as long as the runner runs. Returns
 * `undefined` when another process holds it (run as a standby and try again later). If the holder dies,
 * its connection closes and PostgreSQL releases the lock, so a standby takes over.
 *
 * The lock is an optimisation of work sharing, not what keeps the tables right: `apply` locks the
 * projection's registry row and refuses a checkpoint that does not move forward, so even two runners
 * that both believed they held the lock (e.g. across a network partition) could not apply an event twice.
 */
export async function acquireRunnerLock(
  pool: pg.Pool,
  schema: string,
  name: string,
): Promise<RunnerLock | undefined> {
  const key = `crm-ledger:${schema}:${name}`;
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [key],
    );
    if (rows[0]?.locked !== true) {
      client.release();
      return undefined;
    }
  } catch (error) {
    client.release(error instanceof Error ? error : true);
    throw error;
  }
  let released = false;
  return {
    key,
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
      }
    },
  };
}
