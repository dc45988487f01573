import type pg from 'pg';
import type { CheckpointStore, GlobalPosition } from '@crm-ledger/core';
import { qq } from './identifiers.js';

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

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
