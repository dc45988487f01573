import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, memoryApiKeyStore } from './api-keys.js';
import { requireScope } from './auth.js';
import { limitConcurrency } from './concurrency.js';
import { createHttpServer, type HttpApp } from './server.js';

/**
 * Over real HTTP: an expensive route that keeps the event loop busy for 150 ms per request in 5 slices (like folding a long stream page by page),
 * hammered by 32 concurrent requests of one key. With the limit, the excess is answered 429 at once and `/health`
 * answers between the heavy requests; without it, /health waits behind all 32 (about 4.8 s).
 */
const a = generateApiKey('a', ['read'], '2024-01-01T00:00:00Z');
const b = generateApiKey('b', ['read'], '2024-01-01T00:00:00Z');
let app: HttpApp;
let url = '';

beforeAll(async () => {
  app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '1' });
  const keys = memoryApiKeyStore([a.record, b.record]);
  // like the 360 of a long stream: pages read (awaits) and folded (synchronous work), 5 x 30 ms
  const heavy = async () => {
    for (let page = 0; page < 5; page++) {
      await new Promise((r) => setImmediate(r));
      const until = Date.now() + 30;
      while (Date.now() < until) {
        // busy: the event loop is blocked while a page is folded
      }
    }
    return { ok: true };
  };
  app.get(
    '/v1/heavy',
    { onRequest: [requireScope(keys, 'read'), limitConcurrency({ perKey: 2, total: 0 })] },
    heavy,
  );
  app.get('/v1/unlimited', { onRequest: requireScope(keys, 'read') }, heavy);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => app.close());

const get = (p: string, key?: string) =>
  fetch(`${url}${p}`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

async function hammer(p: string): Promise<{ statuses: number[]; healthMs: number }> {
  const requests = Array.from({ length: 32 }, () => get(p, a.key).then((r) => r.status));
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const health = await get('/health');
  const healthMs = performance.now() - t0;
  expect(health.status).toBe(200);
  return { statuses: await Promise.all(requests), healthMs };
}

describe('concurrent expensive requests per key', () => {
  it('answers 429 beyond the limit instead of queueing, so /health is not stalled behind them', async () => {
    await hammer('/v1/unlimited'); // warm: connections open, code compiled
    const limited = await hammer('/v1/heavy');
    expect(limited.statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(limited.statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
    expect(limited.statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const unlimited = await hammer('/v1/unlimited');
    expect(unlimited.statuses.every((s) => s === 200)).toBe(true);
    // /health waited behind far fewer heavy requests with the limit than without it
    expect(limited.healthMs).toBeLessThan(unlimited.healthMs / 2);
  }, 30_000);

  it('frees the slots when answers are sent: another key is not affected, later requests pass', async () => {
    const r = await get('/v1/heavy', b.key);
    expect(r.status).toBe(200);
    const again = await Promise.all([get('/v1/heavy', a.key), get('/v1/heavy', a.key)]);
    expect(again.map((x) => x.status)).toEqual([200, 200]);
  });
});
