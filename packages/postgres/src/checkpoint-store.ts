import type pg from 'pg';
import type { CheckpointLock, CheckpointStore, GlobalPosition } from '@crm-ledger/core';
import { qq } from './read-model/identifiers.js';

/**
 * The `CheckpointStore` port on PostgreSQL, in `<schema>._checkpoints` (created by the read-model store's
 * migrations: open the read-model store on the schema first, or use `openPostgresCheckpointStore`).
 * For consumers of the global log whose effects live elsewhere (the Kafka relay) when the event store is
 * EventStoreDB and there is no local SQLite file to keep them in. `save` never moves a checkpoint backwards.
 */
export class PostgresCheckpointStore implements CheckpointStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly ownsPool: boolean,
  ) {}

  async load(name: string): Promise<GlobalPosition> {
    const { rows } = await this.pool.query<{ position: string }>(
      `SELECT position FROM ${qq(this.schema, '_checkpoints')} WHERE name = $1`,
      [name],
    );
    return rows[0] === undefined ? 0 : Number(rows[0].position);
  }

  async save(name: string, position: GlobalPosition): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new RangeError(`checkpoint ${name}: position must be a non-negative integer, got ${position}`);
    }
    await this.pool.query(
      `INSERT INTO ${qq(this.schema, '_checkpoints')} AS c (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = GREATEST(c.position, EXCLUDED.position), updated_at = now()`,
      [name, position],
    );
  }

  /**
   * A session-level advisory lock on `crm-ledger:checkpoint:<schema>:<name>`, held on a pooled connection kept
   * out of the pool until `release`. PostgreSQL frees it when that session ends (the holder died, the connection
   * was cut): `lost` then aborts, so a holder that lost it stops while a standby takes over.
   */
  async tryLock(name: string): Promise<CheckpointLock | undefined> {
    const key = `crm-ledger:checkpoint:${this.schema}:${name}`;
    const client = await this.pool.connect();
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [key],
      );
      locked = rows[0]?.locked === true;
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    if (!locked) {
      client.release();
      return undefined;
    }
    const lost = new AbortController();
    const onLost = (): void => lost.abort(new Error(`the session holding ${key} ended`));
    client.on('error', onLost);
    client.on('end', onLost);
    let released = false;
    return {
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        client.off('error', onLost);
        client.off('end', onLost);
        try {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
          client.release();
        } catch (error) {
          client.release(error instanceof Error ? error : true);
        }
      },
    };
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
