import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateApiKey, memoryApiKeyStore } from './api-keys.js';
import { requireScope } from './auth.js';
import { ErrorBody } from './errors.js';
import { createHttpServer } from './server.js';

async function app(ready: () => Promise<string | undefined> = () => Promise.resolve(undefined)) {
  const { key, record } = generateApiKey('t', ['read'], '2024-01-01T00:00:00Z');
  const a = await createHttpServer({
    logger: pino({ level: 'silent' }),
    title: 't',
    version: '1',
    readiness: ready,
    bodyLimit: 2048,
  });
  a.post(
    '/echo',
    {
      onRequest: requireScope(memoryApiKeyStore([record]), 'read'),
      schema: { body: z.strictObject({ n: z.int().max(5) }) },
    },
    (req) => ({ n: req.body.n }),
  );
  a.get('/boom', () => {
    throw new Error('secret detail');
  });
  await a.ready();
  return { a, key };
}

describe('createHttpServer', () => {
  it('answers every error in the stable shape', async () => {
    const { a, key } = await app();
    const auth = { authorization: `Bearer ${key}` };
    const cases: [InjectOptions, number, string][] = [
      [{ method: 'POST', url: '/echo', payload: { n: 1 } }, 401, 'unauthenticated'],
      [
        { method: 'POST', url: '/echo', headers: { authorization: 'Bearer nope' }, payload: { n: 1 } },
        403,
        'forbidden',
      ],
      [{ method: 'POST', url: '/echo', headers: auth, payload: { n: 9 } }, 400, 'invalid_request'],
      [
        { method: 'POST', url: '/echo', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' },
        415,
        'unsupported_media_type',
      ],
      [
        { method: 'POST', url: '/echo', headers: auth, payload: { n: 1, pad: 'x'.repeat(3000) } },
        413,
        'payload_too_large',
      ],
      [{ method: 'GET', url: '/nowhere' }, 404, 'not_found'],
      [{ method: 'GET', url: '/boom' }, 500, 'internal'],
    ];
    for (const [req, status, code] of cases) {
      const res = await a.inject(req);
      expect(res.statusCode, JSON.stringify(req)).toBe(status);
      expect(ErrorBody.parse(res.json()).error.code).toBe(code);
      expect(res.body).not.toContain('secret detail');
    }
    const bad = await a.inject({ method: 'POST', url: '/echo', headers: auth, payload: { n: 9 } });
    expect(ErrorBody.parse(bad.json()).error.issues?.[0]?.path).toEqual(['n']);
    expect(
      (await a.inject({ method: 'POST', url: '/echo', headers: auth, payload: { n: 3 } })).json(),
    ).toEqual({ n: 3 });
  });

  it('reports readiness from its check and sends security headers', async () => {
    const { a } = await app(() => Promise.resolve('store down'));
    const res = await a.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not_ready', reason: 'store down' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect((await a.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('publishes an OpenAPI document of its routes', async () => {
    const { a } = await app();
    const doc = (await a.inject({ method: 'GET', url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/echo');
  });
});
