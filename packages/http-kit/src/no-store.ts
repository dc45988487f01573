import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * An `onSend` hook: every answer under `/v1/` (views, events, errors alike) carries `Cache-Control: no-store`,
 * so no browser, proxy or CDN keeps a copy of personal data or business figures.
 */
export function noStoreOnApi(
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, payload: unknown) => void,
): void {
  if (req.url.startsWith('/v1/') || req.url === '/v1') void reply.header('cache-control', 'no-store');
  done(null, payload);
}
