import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  openPostgresReadModelStore,
  scratchSchemaOf,
  sweepScratchSchemas,
  type PostgresReadModelStore,
} from './postgres-read-model-store.js';
import { TEST_POSTGRES_URL, dropSchema, freshSchema } from './test-support.js';

/**
 * The scratch schemas of past cuts (`<schema>__cut_<8 hex>`, opened with `dropOnClose` by the query API) left by a
 * process killed before it could drop them are dropped by the next sweep, and only those: a live store's schema,
 * the deployment's own schema and names that only look alike are kept. A real child process is SIGKILLed.
 */
const base = freshSchema('sweep');
const dist = path.resolve(import.meta.dirname, '../../dist/index.js');

async function schemas(): Promise<string[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1 ORDER BY nspname`,
      [`${base}%`],
    );
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

/** A real process that opens a scratch store on `schema`, says so, and waits to be killed. */
async function ownerKilledWhileHolding(schema: string): Promise<void> {
  const script = `
    const { openPostgresReadModelStore } = await import(${JSON.stringify(dist)});
    await openPostgresReadModelStore({ connectionString: ${JSON.stringify(TEST_POSTGRES_URL)},
      schema: ${JSON.stringify(schema)}, poolSize: 1, dropOnClose: true });
    console.log('ready');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the owner exited (${code}) before it was ready`)));
  });
  const gone = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await gone;
}

describe('sweeping the scratch schemas of past cuts (real PostgreSQL, a real process killed)', () => {
  const opened: PostgresReadModelStore[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close();
    for (const name of await schemas()) await dropSchema(name);
  });

  it('drops the schema of a killed owner, keeps a live one, the base schema and look-alikes', async () => {
    const live = await openPostgresReadModelStore({
      connectionString: TEST_POSTGRES_URL,
      schema: scratchSchemaOf(base),
      poolSize: 1,
      dropOnClose: true,
    });
    opened.push(live);
    opened.push(
      await openPostgresReadModelStore({ connectionString: TEST_POSTGRES_URL, schema: base, poolSize: 1 }),
    );
    const lookAlike = await openPostgresReadModelStore({
      connectionString: TEST_POSTGRES_URL,
      schema: `${base}__cut_notours`,
      poolSize: 1,
    });
    opened.push(lookAlike);
    const dead = scratchSchemaOf(base);
    await ownerKilledWhileHolding(dead);
    expect(await schemas()).toContain(dead);

    // PostgreSQL ends the killed process's sessions (and releases their locks) as soon as it sees the socket
    // closed; idle_session_timeout (10 s) is the bound when it does not: poll a little past it
    let dropped: string[] = [];
    for (const until = Date.now() + 15_000; dropped.length === 0 && Date.now() < until;) {
      dropped = await sweepScratchSchemas({ connectionString: TEST_POSTGRES_URL, schema: base });
      if (dropped.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(dropped).toEqual([dead]);
    const left = await schemas();
    expect(left).not.toContain(dead);
    expect(left).not.toContain(`${dead}__rebuild`);
    expect(left).toEqual(expect.arrayContaining([base, live.schema, lookAlike.schema]));
    // a second sweep finds nothing more to drop while the live store holds its schema
    expect(await sweepScratchSchemas({ connectionString: TEST_POSTGRES_URL, schema: base })).toEqual([]);

    await live.close();
    opened.splice(opened.indexOf(live), 1);
    expect(await schemas()).not.toContain(live.schema);
  }, 60_000);
});
