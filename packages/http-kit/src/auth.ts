import * as E from 'fp-ts/lib/Either.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, hasScope, type ApiKeyRecord, type ApiKeyStore, type Scope } from './api-keys.js';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Public id of the API key that authenticated the request (safe to log). */
    apiKeyId?: string;
    /** The scopes of that key: routes that show more to some keys (contact details) or refuse some events. */
    apiKeyScopes?: ApiKeyRecord['scopes'];
  }
}

/** Whether the request's authenticated key holds `scope` (or `admin`). */
export const requestHolds = (req: FastifyRequest, scope: Scope): boolean =>
  req.apiKeyScopes !== undefined && hasScope({ scopes: req.apiKeyScopes }, scope);

/** The key a request presents: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] ?? '';
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

/**
 * An `onRequest` hook that lets a request through only with a key holding `scope` (one of them, for a list)
 * or `admin`.
 * It runs before the body is read, so unauthenticated requests cost no parsing.
 * 401 when no key is presented; 403 when the key is unknown, revoked or lacks the scope.
 */
export function requireScope(keys: ApiKeyStore, scope: Scope | readonly Scope[]) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const now = new Date().toISOString();
    const result = await authenticate(keys, presentedKey(req), scope, now);
    if (E.isRight(result)) {
      req.apiKeyId = result.right.id;
      req.apiKeyScopes = result.right.scopes;
      await keys.markUsed(result.right.id, now);
      return;
    }
    switch (result.left.type) {
      case 'MissingKey':
        void reply.header('www-authenticate', 'Bearer realm="crm-ledger"');
        await sendError(reply, 401, 'unauthenticated', 'an API key is required: Authorization: Bearer <key>');
        return;
      case 'UnknownKey':
        await sendError(reply, 403, 'forbidden', 'the API key is unknown, revoked or expired');
        return;
      case 'MissingScope':
        await sendError(
          reply,
          403,
          'forbidden',
          `the API key lacks the ${[result.left.scope]
            .flat()
            .map((s) => `'${s}'`)
            .join(' or ')} scope`,
        );
        return;
    }
  };
}
