/**
 * Where a secret or personal data could sit in a log line of a crm-ledger process: credentials in request
 * headers, request and response bodies, events and their payloads, Kafka message values. Logging code already
 * avoids them (positions, ids, counts and issue codes only); redaction is the second line of defence for
 * whatever a future log call or a library (Fastify, kafkajs) puts there. A top-level `events` is not redacted:
 * by convention it is a count (the projector's "applied" line); event arrays sit under `*.events`.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'authorization',
  'apiKey',
  'key',
  'req.body',
  'res.body',
  'body',
  'payload',
  'event',
  'data',
  'value',
  'message.value',
  '*.data',
  '*.event',
  '*.events',
  '*.body',
  '*.payload',
  '*.value',
  'err.event',
  'err.data',
];

/**
 * The options of every service's pino logger (`pino(loggerOptions('crm-relay', level))`): its name, level and
 * the redaction of `LOG_REDACT_PATHS`. Kept here, with no pino import, so every service shares one list.
 */
export function loggerOptions(
  name: string,
  level: string,
): {
  name: string;
  level: string;
  redact: { paths: string[]; censor: string };
  serializers: { req: (req: LoggedRequest) => Record<string, unknown> };
} {
  return {
    name,
    level,
    redact: { paths: [...LOG_REDACT_PATHS], censor: '[redacted]' },
    serializers: { req: serializeRequest },
  };
}

/** What an HTTP request log line may show of a request (Fastify's request object has these fields). */
interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
}

/**
 * A request in a log line: method, path and client, never the query string (filters and time-travel values are
 * the caller's data, and a client may put anything there), never headers or body.
 */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
    host: req.host,
    remoteAddress: req.ip,
  };
}
