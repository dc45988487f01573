import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus registry (prom-client): Node's own metrics (CPU, memory, event-loop lag, GC) under
 * `crm_ledger_process_`, and whatever the components register (append rate and latency, projection lag, ...).
 * Served at `GET /metrics` in the text exposition format. Labels never carry ids, keys or personal data: routes
 * are their patterns (`/v1/customers/:customerId`), never the requested path.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'crm_ledger_process_' });
  return registry;
}

/** Requests by route pattern, method and status, their durations, and refusals by the error code sent. */
export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'crm_ledger_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'crm_ledger_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its answer, by route pattern',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'crm_ledger_http_errors_total',
    help: 'Error answers sent, by stable error code (`invalid_body`, `unauthorized`, `rate_limited`, ...) and status',
    labelNames: ['code', 'status'],
    registers: [registry],
  });
  // every error answer has the shape {"error":{"code":"...", ...}}: its code is read off the serialised payload
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const code = /^\{"error":\{"code":"([a-z_]{1,40})"/.exec(payload)?.[1] ?? 'other';
      errors.inc({ code, status: String(reply.statusCode) });
    }
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    // unmatched paths share one label: a scan of random URLs cannot grow the label set
    const route = req.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') {
      requests.inc({ route, method: req.method, status: String(reply.statusCode) });
      duration.observe({ route }, reply.elapsedTime / 1000);
    }
    done();
  });
}
