import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { generateApiKey, memoryApiKeyStore } from './api-keys.js';
import { requireScope } from './auth.js';
import { ErrorBody } from './errors.js';
import { createHttpServer } from './server.js';

async function limitedApp(max: number) {
  const a = generateApiKey('a', ['read'], '2024-01-01T00:00:00Z');
  const b = generateApiKey('b', ['read'], '2024-01-01T00:00:00Z');
  const app = await createHttpServer({
    logger: pino({ level: 'silent' }),
    title: 't',
    version: '1',
    rateLimit: { max, windowSeconds: 60 },
  });
  let bodiesParsed = 0;
  app.post('/echo', { onRequest: requireScope(memoryApiKeyStore([a.record, b.record]), 'read') }, (req) => {
    bodiesParsed += 1;
    return { got: req.body };
  });
  await app.ready();
  return { app, keyA: a.key, keyB: b.key, parsed: () => bodiesParsed };
}

const post = (key: string | undefined) => ({
  method: 'POST' as const,
  url: '/echo',
  headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  payload: { n: 1 },
});

describe('rate limit per API key', () => {
  it('answers 429 with Retry-After and the stable error shape once a key used its budget', async () => {
    const { app, keyA, parsed } = await limitedApp(3);
    for (let i = 0; i < 3; i++) expect((await app.inject(post(keyA))).statusCode).toBe(200);
    const limited = await app.inject(post(keyA));
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    const body = ErrorBody.parse(limited.json());
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toContain('3 requests per 60 s');
    // a limited request is refused before its body is parsed
    expect(parsed()).toBe(3);
    // security headers are on the 429 too
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
  });

  it('counts per key id, not per client address: another key from the same address is not limited', async () => {
    const { app, keyA, keyB } = await limitedApp(2);
    for (let i = 0; i < 2; i++) await app.inject(post(keyA));
    expect((await app.inject(post(keyA))).statusCode).toBe(429);
    expect((await app.inject(post(keyB))).statusCode).toBe(200);
    expect((await app.inject(post(keyB))).statusCode).toBe(200);
    expect((await app.inject(post(keyB))).statusCode).toBe(429);
  });

  it('does not count unauthenticated routes nor refused keys against anyone', async () => {
    const { app, keyA } = await limitedApp(1);
    for (let i = 0; i < 5; i++) {
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect((await app.inject(post(undefined))).statusCode).toBe(401);
      expect((await app.inject(post('crml_000000000000_nope'))).statusCode).toBe(403);
    }
    expect((await app.inject(post(keyA))).statusCode).toBe(200);
    expect((await app.inject(post(keyA))).statusCode).toBe(429);
  });

  it('is off with max 0', async () => {
    const { app, keyA } = await limitedApp(0);
    for (let i = 0; i < 20; i++) expect((await app.inject(post(keyA))).statusCode).toBe(200);
  });
});
