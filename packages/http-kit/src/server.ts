import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ValidationIssue } from '@crm-ledger/events';
import { sendError } from './errors.js';

/** A Fastify instance whose routes take zod schemas. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpServerOptions {
  /** The service's pino logger (created in its main). */
  readonly logger: FastifyBaseLogger;
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  /** Largest accepted request body in bytes (413 above); routes may lower or raise it. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Readiness check: resolves to undefined when ready, or a reason when not (e.g. the store is unreachable). */
  readonly readiness?: () => Promise<string | undefined>;
  /** Extra OpenAPI component schemas (e.g. the event catalogue's JSON Schemas). */
  readonly extraSchemas?: Record<string, unknown>;
  /**
   * Per-API-key rate limit of the authenticated routes: at most `max` requests per `windowSeconds` for
   * one key id (429 with `Retry-After` above). Omitted or `max: 0`: no limit.
   */
  readonly rateLimit?: { readonly max: number; readonly windowSeconds: number };
}

/** Thrown by the rate limiter (its `errorResponseBuilder`), answered 429 by the error handler. */
class RateLimited extends Error {
  readonly statusCode = 429;
}

const HealthBody = z.object({ status: z.string(), reason: z.string().optional() });

function issuesOf(
  error: FastifyError & { validation: { instancePath: string; keyword: string; message?: string }[] },
): ValidationIssue[] {
  const context = (error as { validationContext?: string }).validationContext;
  return error.validation.map((v) => ({
    path: [
      ...(context === undefined || context === 'body' ? [] : [context]),
      ...v.instancePath
        .split('/')
        .filter((s) => s.length > 0)
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
    ],
    code: v.keyword,
    message: v.message ?? 'invalid',
  }));
}

/**
 * A Fastify server with what every crm-ledger HTTP API shares: zod schemas for validation and OpenAPI
 * (`GET /openapi.json`), the `{ error: { code, message, issues? } }` shape for every error (400 with the
 * zod issues, 404, 413, 415, 429, 500), JSON-only bodies (no text/plain parser, so other types get 415),
 * security headers (helmet), an optional rate limit per API key, `GET /health` (liveness) and `GET /ready` (readiness: 503 while a check
 * fails or the server is closing). `app.close()` stops accepting, answers 503 to new requests and waits
 * for in-flight requests to finish.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // The router's own refusals (a malformed URL, a path parameter over 100 characters) in the stable shape too.
    frameworkErrors: (error, _req, reply) => {
      void sendError(reply, error.statusCode === 414 ? 414 : 400, 'invalid_request', error.message);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.removeContentTypeParser('text/plain');
  // JSON bodies must be UTF-8: invalid bytes are refused (400) instead of becoming U+FFFD in a stored event.
  // Parsing itself is Fastify's (secure-json-parse: `__proto__` and `constructor.prototype` keys are refused).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(Object.assign(new Error('the body is not valid UTF-8'), { statusCode: 400 }), undefined);
      return;
    }
    void parseJson(req, text, done);
  });

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // A request in flight when closing began ends its keep-alive connection with its answer, so close()
  // does not wait for the client's idle timeout.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  // JSON bodies are read as UTF-8: a body declared in another charset would be misread, so it is refused.
  app.addHook('preParsing', async (req, _reply, payload) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      throw Object.assign(new Error(`charset ${charset} is not supported`), { statusCode: 415 });
    }
    return payload;
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return sendError(
        reply,
        400,
        'invalid_request',
        'the request does not match the schema',
        issuesOf(error),
      );
    }
    const status = error.statusCode ?? 500;
    if (error instanceof RateLimited) return sendError(reply, 429, 'rate_limited', error.message);
    if (status === 413) return sendError(reply, 413, 'payload_too_large', error.message);
    if (status === 415) return sendError(reply, 415, 'unsupported_media_type', 'send application/json');
    if (status === 503) return sendError(reply, 503, 'unavailable', error.message);
    if (status >= 400 && status < 500) return sendError(reply, 400, 'invalid_request', error.message);
    req.log.error({ err: error }, 'request failed');
    return sendError(reply, 500, 'internal', 'internal error');
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  await app.register(fastifyHelmet, {
    global: true,
    // Tighter than helmet's default: the dashboard loads only its own scripts, styles and Chart.js from this
    // origin and calls the API on it; nothing inline, no framing (its Chromium e2e test watches for violations).
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        scriptSrcAttr: ["'none'"],
      },
    },
  });
  const rateLimit = options.rateLimit;
  if (rateLimit !== undefined && rateLimit.max > 0) {
    await app.register(fastifyRateLimit, {
      global: true,
      max: rateLimit.max,
      timeWindow: rateLimit.windowSeconds * 1000,
      // preParsing runs after a route's onRequest hooks (requireScope sets apiKeyId) and before the body is
      // read: requests are counted per authenticated key, and a limited request costs no parsing.
      hook: 'preParsing',
      keyGenerator: (req) => req.apiKeyId ?? '',
      // unauthenticated routes (health, readiness, OpenAPI, dashboard files) are not limited per key
      allowList: (req) => req.apiKeyId === undefined,
      errorResponseBuilder: (_req, context) =>
        new RateLimited(
          `rate limit of ${context.max} requests per ${rateLimit.windowSeconds} s for this API key exceeded; retry after ${Math.ceil(context.ttl / 1000)} s`,
        ),
    });
  }
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version, description: options.description ?? '' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'crm-ledger API key (crml_...)' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => {
      const out = jsonSchemaTransformObject(doc) as { components?: { schemas?: Record<string, unknown> } };
      if (options.extraSchemas !== undefined) {
        out.components = {
          ...out.components,
          schemas: { ...out.components?.schemas, ...options.extraSchemas },
        };
      }
      return out as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });

  app.get(
    '/health',
    { schema: { tags: ['operations'], summary: 'Liveness', response: { 200: HealthBody } } },
    () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/ready',
    {
      schema: { tags: ['operations'], summary: 'Readiness', response: { 200: HealthBody, 503: HealthBody } },
    },
    async (_req, reply) => {
      const reason = closing ? 'shutting down' : await (options.readiness?.() ?? Promise.resolve(undefined));
      return reason === undefined
        ? { status: 'ready' }
        : reply.code(503).send({ status: 'not_ready', reason });
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
