import { describe, expect, it } from 'vitest';
import { bindCheckpointsToStore } from './checkpoint-identity.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** The CheckpointStore contract in memory (never backwards), as the SQLite and PostgreSQL stores keep it. */
function memoryCheckpoints(): CheckpointStore & { rows: Map<string, number> } {
  const rows = new Map<string, number>();
  return {
    rows,
    load: (name) => Promise.resolve(rows.get(name) ?? 0),
    save: (name, position) => {
      rows.set(name, Math.max(rows.get(name) ?? 0, position));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

describe('checkpoints bound to the event store they were read from', () => {
  it('a checkpoint saved reading SQLite is refused by EventStoreDB, with how to start over', async () => {
    const inner = memoryCheckpoints();
    await bindCheckpointsToStore(inner, 'sqlite').save('relay', 1234);
    expect(await bindCheckpointsToStore(inner, 'sqlite').load('relay')).toBe(1234);
    await expect(bindCheckpointsToStore(inner, 'eventstoredb:').load('relay')).rejects.toThrow(
      /checkpoint 'relay' \(position 1234\) was saved reading another event store than eventstoredb:.*delete the checkpoints 'relay' and 'relay@store'/,
    );
  });

  it('another stream prefix on the same EventStoreDB is another store', async () => {
    const inner = memoryCheckpoints();
    await bindCheckpointsToStore(inner, 'eventstoredb:a.').save('relay', 7);
    await expect(bindCheckpointsToStore(inner, 'eventstoredb:b.').load('relay')).rejects.toThrow(
      /another event store/,
    );
  });

  it('a checkpoint from before the binding is adopted by the first store that reads it, then bound to it', async () => {
    const inner = memoryCheckpoints();
    await inner.save('relay', 99);
    expect(await bindCheckpointsToStore(inner, 'sqlite').load('relay')).toBe(99);
    await expect(bindCheckpointsToStore(inner, 'eventstoredb:').load('relay')).rejects.toThrow(
      /another event store/,
    );
  });

  it('a consumer that never saved starts from 0 on any store', async () => {
    const inner = memoryCheckpoints();
    expect(await bindCheckpointsToStore(inner, 'eventstoredb:').load('fresh')).toBe(0);
    expect(await bindCheckpointsToStore(inner, 'sqlite').load('fresh')).toBe(0);
  });
});
