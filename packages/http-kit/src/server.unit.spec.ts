import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateApiKey, memoryApiKeyStore } from './api-keys.js';
import { requireScope } from './auth.js';
import { ErrorBody } from './errors.js';
import { createHttpServer, operationIdOf } from './server.js';

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

  it('answers 200 degraded with the reason while a part is retrying, 503 when a check fails', async () => {
    let reason: string | undefined = 'projector: retrying since 2026-01-01T00:00:00.000Z (3 attempts)';
    const a = await createHttpServer({
      logger: pino({ level: 'silent' }),
      title: 't',
      version: '1',
      degraded: () => Promise.resolve(reason === undefined ? undefined : { reason, count: 0 }),
    });
    await a.ready();
    const res = await a.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'degraded', reason, count: 0 });
    reason = undefined;
    expect((await a.inject({ method: 'GET', url: '/ready' })).json()).toEqual({ status: 'ready' });
    const { a: down } = await app(() => Promise.resolve('store down'));
    expect((await down.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
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

  it('names a server and gives every operation a unique camelCase operationId', async () => {
    const { a } = await app();
    const doc = (await a.inject({ method: 'GET', url: '/openapi.json' })).json<{
      servers: { url: string }[];
      paths: Record<string, Record<string, { operationId?: string }>>;
    }>();
    expect(doc.servers).toEqual([{ url: '/', description: 'the host that serves this document' }]);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(ids.every((id) => id !== undefined && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/echo']?.['post']?.operationId).toBe('postEcho');
    expect(operationIdOf('GET', '/v1/customers/:customerId/clv')).toBe('getV1CustomersByCustomerIdClv');
    const served = await createHttpServer({
      logger: pino({ level: 'silent' }),
      title: 't',
      version: '1',
      publicUrl: 'https://crm.example.com',
    });
    served.get('/named', { schema: { operationId: 'readNamed' } }, () => ({}));
    await served.ready();
    expect(served.swagger()).toMatchObject({
      servers: [{ url: 'https://crm.example.com' }],
      paths: { '/named': { get: { operationId: 'readNamed' } } },
    });
  });
});
