import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresCheckpointStore } from './postgres-read-model-store.js';
import { TEST_POSTGRES_URL, dropSchema, freshSchema } from './test-support.js';

describe('PostgreSQL checkpoint store (real PostgreSQL)', () => {
  const schema = freshSchema('cp');
  afterAll(() => dropSchema(schema));

  it('starts at 0, saves, never moves backwards, and survives reopening', async () => {
    const a = await openPostgresCheckpointStore({ connectionString: TEST_POSTGRES_URL, schema });
    expect(await a.load('relay')).toBe(0);
    await a.save('relay', 4_096);
    await a.save('relay', 1_024);
    expect(await a.load('relay')).toBe(4_096);
    await a.save('relay', 2 ** 40);
    await a.save('exporter', 7);
    await a.close();
    const b = await openPostgresCheckpointStore({ connectionString: TEST_POSTGRES_URL, schema });
    expect([await b.load('relay'), await b.load('exporter')]).toEqual([2 ** 40, 7]);
    await expect(b.save('relay', -1)).rejects.toThrow(RangeError);
    await b.close();
  });
});
