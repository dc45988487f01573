import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from './fault-proxy.js';

// The proxy the fault-injection specs rely on, against the real PostgreSQL: each mode does what it says.
const POSTGRES = new URL(
  process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
);

describe('FaultProxy in front of the real PostgreSQL', () => {
  let proxy: FaultProxy;
  const url = (): string => {
    const u = new URL(POSTGRES);
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    return u.toString();
  };
  const client = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 3_000 });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
    Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

  beforeAll(async () => {
    proxy = await FaultProxy.start({ host: POSTGRES.hostname, port: Number(POSTGRES.port || 5432) });
  });
  afterAll(() => proxy.close());

  it('passes queries, resets open connections, refuses new ones, and passes again', async () => {
    const c = await client();
    expect((await c.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    proxy.reset();
    await expect(c.query('SELECT 1')).rejects.toThrow();
    await proxy.refuse();
    await expect(client()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.pass();
    const again = await client();
    expect((await again.query('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
    await again.end();
  });

  it('stall holds the answers until it passes; blackhole drops them, and a connection the server ended meanwhile is reset on pass', async () => {
    const c = await client();
    proxy.stall();
    const stalled = c.query<{ n: number }>('SELECT 3 AS n');
    expect(await within(stalled, 500)).toBe('timeout');
    await proxy.pass();
    expect((await stalled).rows).toEqual([{ n: 3 }]);

    const d = await client();
    await d.query("SET idle_session_timeout = '1s'");
    proxy.blackhole();
    const lost = d.query('SELECT 4').then(
      () => 'answered',
      () => 'failed',
    );
    expect(await within(lost, 2_500)).toBe('timeout'); // no answer, no error while the network is gone
    await proxy.pass(); // the server ended the idle session meanwhile: the client learns it now
    expect(await within(lost, 3_000)).toBe('failed');
    await c.end();
  });
});
