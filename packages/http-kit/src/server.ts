import { createServer, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { emptyRecord } from '@crm-ledger/events';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, {
  LogController,
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
import type { Registry } from 'prom-client';
import { visit } from 'jsonc-parser';
import { errorBody, sendError, type ErrorCode } from './errors.js';
import { instrumentHttp } from './metrics.js';
import { noStoreOnApi } from './no-store.js';

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
  /** Log a line per request received and completed (default true; a person watching a terminal wants them off). */
  readonly requestLogging?: boolean;
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  /** Largest accepted request body in bytes (413 above); routes may lower or raise it. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** The process's Prometheus registry: request metrics are recorded in it and it is served at `GET /metrics`. */
  readonly metrics?: Registry;
  /** Readiness check: resolves to undefined when ready, or a reason when not (e.g. the store is unreachable). */
  readonly readiness?: () => Promise<string | undefined>;
  /**
   * Degraded but serving: resolves to what is wrong (a part retrying: "projector: retrying since T, last error E";
   * customers a view holds) and how many customers are held, or undefined. `/ready` then answers 200
   * `{ status: 'degraded', reason, count }`.
   */
  readonly degraded?: () => Promise<{ readonly reason: string; readonly count: number } | undefined>;
  /**
   * Projection lag, when this process runs the projector: the log's head and, per view, the events not yet
   * applied to it (the source of the `crm_ledger_projection_lag_events` metric). `/ready` adds it as `lag` to
   * its `ready` and `degraded` answers; undefined (or a failure to read it) leaves it out.
   */
  readonly lag?: () => Promise<ProjectionLag | undefined>;
  /** Extra OpenAPI component schemas (e.g. the event catalogue's JSON Schemas). */
  readonly extraSchemas?: Record<string, unknown>;
  /**
   * The URL clients reach this process at (the OpenAPI `servers` entry). Omitted: a relative `/` server,
   * i.e. the host that served `/openapi.json` (the listening port is often only known after `listen`).
   */
  readonly publicUrl?: string;
  /**
   * Per-API-key rate limit of the authenticated routes: at most `max` requests per `windowSeconds` for
   * one key id (429 with `Retry-After` above). Omitted or `max: 0`: no limit.
   */
  readonly rateLimit?: { readonly max: number; readonly windowSeconds: number };
  /**
   * Time limits of a connection (issue #14): the whole request, headers and body, must arrive within
   * `requestMs` (default 30 s) and its headers within `headersMs` (default 10 s), or it is answered 408
   * `request_timeout` and the connection closed; an idle keep-alive connection is closed after `keepAliveMs`
   * (default 5 s). Checked every second.
   */
  readonly timeouts?: {
    readonly requestMs?: number;
    readonly headersMs?: number;
    readonly keepAliveMs?: number;
  };
}

/**
 * The default OpenAPI `operationId` of a route without one: its method and path in camelCase, a path
 * parameter as `By<Name>` (`GET /v1/customers/:customerId/clv` -> `getV1CustomersByCustomerIdClv`). Unique
 * as method and path are; routes name their own where a shorter name reads better.
 */
export function operationIdOf(method: string | readonly string[], url: string): string {
  const verb = (Array.isArray(method) ? String(method[0]) : String(method)).toLowerCase();
  const words = url
    .split('/')
    .filter((s) => s.length > 0)
    .flatMap((s) => (s.startsWith(':') || s.startsWith('{') ? ['by', s.replace(/^[:{]|\}$/g, '')] : [s]))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter((s) => s.length > 0);
  return verb + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/** Thrown by the rate limiter (its `errorResponseBuilder`), answered 429 by the error handler. */
class RateLimited extends Error {
  readonly statusCode = 429;
}

/** The log's head position and, per view, how many events behind it the view's checkpoint is. */
export interface ProjectionLag {
  readonly head: number;
  readonly views: { view: string; events: number }[];
  /**
   * The Kafka mode of the projector (docs/deploy.md): per partition of the topic, the messages not yet applied
   * (the partition's end offset minus the next offset stored with the views).
   */
  readonly partitions?: {
    topic: string;
    partition: number;
    nextOffset: number;
    endOffset: number;
    lag: number;
  }[];
}

const HealthBody = z.object({
  status: z.string(),
  reason: z.string().optional(),
  count: z.number().optional(),
  lag: z
    .object({
      head: z.number(),
      views: z.array(z.object({ view: z.string(), events: z.number() })),
      partitions: z
        .array(
          z.object({
            topic: z.string(),
            partition: z.number(),
            nextOffset: z.number(),
            endOffset: z.number(),
            lag: z.number(),
          }),
        )
        .optional(),
    })
    .optional(),
});

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

const DUPLICATE_KEY = 'CRM_DUPLICATE_KEY';

/**
 * The first key that appears twice in one object of a JSON text (already known to be valid JSON), or
 * undefined. jsonc-parser's visitor walks the text; JSON.parse alone keeps the last value silently.
 */
function duplicateKey(text: string): string | undefined {
  const objects: Set<string>[] = [];
  let found: string | undefined;
  visit(
    text,
    {
      onObjectBegin: () => {
        objects.push(new Set());
      },
      onObjectProperty: (name) => {
        const keys = objects[objects.length - 1];
        if (keys === undefined || found !== undefined) return;
        if (keys.has(name)) found = name;
        else keys.add(name);
      },
      onObjectEnd: () => {
        objects.pop();
      },
    },
    { disallowComments: true },
  );
  return found;
}

/** Status and code of what Node's HTTP parser refuses (`clientError`), in the stable error shape. */
function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; code: ErrorCode; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'the request headers are too large' };
    case 'HPE_URI_TOO_LONG':
      return { status: 414, code: 'uri_too_long', message: 'the URL is too long' };
    default:
      return { status: 400, code: 'invalid_request', message: 'the request is not valid HTTP/1.1' };
  }
}

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, code, message } = clientErrorAnswer(err);
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * A Fastify server with what every crm-ledger HTTP API shares: zod schemas for validation and OpenAPI
 * (`GET /openapi.json`), the `{ error: { code, message, issues? } }` shape for every error (400 with the
 * zod issues, 404, 413, 415, 429, 500), JSON-only bodies (no text/plain parser, so other types get 415),
 * security headers (helmet), an optional rate limit per API key, `GET /health` (liveness) and `GET /ready` (readiness: 503 while a check
 * fails or the server is closing; 200 `degraded` while a part is retrying). `app.close()` stops accepting, answers 503 to new requests and waits
 * for in-flight requests to finish.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpApp> {
  const requestTimeout = options.timeouts?.requestMs ?? 30_000;
  const headersTimeout = Math.min(options.timeouts?.headersMs ?? 10_000, requestTimeout);
  const keepAliveTimeout = options.timeouts?.keepAliveMs ?? 5_000;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: options.requestLogging === false }),
    requestTimeout,
    keepAliveTimeout,
    // Node checks the request and headers timeouts every `connectionsCheckingInterval` (30 s by default):
    // every second, so a stalled body gets its 408 close to the configured time.
    serverFactory: (handler) =>
      createServer(
        { requestTimeout, headersTimeout, keepAliveTimeout, connectionsCheckingInterval: 1_000 },
        handler,
      ),
    // What Node's HTTP parser refuses before Fastify sees a request (unknown method, bytes not allowed in a
    // path, a URL or headers too large, a request that did not arrive in time): the stable shape too.
    clientErrorHandler: answerClientError,
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
    void parseJson(req, text, (err, parsed) => {
      if (err !== null) return done(err, undefined);
      // An ambiguous body (the same key twice in one object: which one counts?) is refused, not resolved.
      const duplicate = duplicateKey(text);
      if (duplicate !== undefined)
        return done(
          Object.assign(new Error(`the key '${duplicate}' appears twice in one object of the body`), {
            statusCode: 400,
            code: DUPLICATE_KEY,
          }),
          undefined,
        );
      done(null, parsed);
    });
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

  app.addHook('onSend', noStoreOnApi);

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
    if (error.code === DUPLICATE_KEY) return sendError(reply, 400, 'duplicate_key', error.message);
    if (status === 408) return sendError(reply, 408, 'request_timeout', error.message);
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
      servers: [
        options.publicUrl === undefined
          ? { url: '/', description: 'the host that serves this document' }
          : { url: options.publicUrl },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'crm-ledger API key (crml_...)' },
        },
      },
    },
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      const schema = out.schema as { operationId?: string; hide?: boolean } | undefined;
      if (schema?.operationId !== undefined || schema?.hide === true) return out;
      return { ...out, schema: { ...schema, operationId: operationIdOf(input.route.method, input.url) } };
    },
    transformObject: (doc) => {
      const out = jsonSchemaTransformObject(doc) as { components?: { schemas?: Record<string, unknown> } };
      if (options.extraSchemas !== undefined) {
        out.components = {
          ...out.components,
          schemas: Object.assign(emptyRecord<unknown>(), out.components?.schemas, options.extraSchemas),
        };
      }
      return out as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });

  const metrics = options.metrics;
  if (metrics !== undefined) {
    instrumentHttp(app, metrics);
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          security: [],
          summary:
            'Prometheus metrics (text exposition format; counts and positions only, no ids or personal data)',
        },
      },
      async (_req, reply) => {
        const text = await metrics.metrics();
        return reply.type(metrics.contentType).send(text);
      },
    );
  }
  app.get(
    '/health',
    { schema: { tags: ['operations'], security: [], summary: 'Liveness', response: { 200: HealthBody } } },
    () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Readiness',
        response: { 200: HealthBody, 503: HealthBody },
      },
    },
    async (_req, reply) => {
      const reason = closing ? 'shutting down' : await (options.readiness?.() ?? Promise.resolve(undefined));
      if (reason !== undefined) return reply.code(503).send({ status: 'not_ready', reason });
      const degraded = await options.degraded?.();
      const lag = await (options.lag?.() ?? Promise.resolve(undefined)).catch(() => undefined);
      const withLag = lag === undefined ? {} : { lag };
      return degraded === undefined
        ? { status: 'ready', ...withLag }
        : { status: 'degraded', ...degraded, ...withLag };
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
