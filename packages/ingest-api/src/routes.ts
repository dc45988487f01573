import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { isWrongExpectedRevision, type EventStore, type ExpectedRevision } from '@crm-ledger/core';
import {
  CustomerId,
  own,
  type CustomerIdPolicy,
  type RawEnvelope,
  type ValidationIssue,
} from '@crm-ledger/events';
import {
  ErrorBody,
  requestHolds,
  requireScope,
  sendError,
  type ApiKeyStore,
  type HttpApp,
} from '@crm-ledger/http-kit';
import type { FastifyRequest } from 'fastify';
import {
  appendCustomerEvents,
  STREAM_FULL,
  describeConflict,
  describeGone,
  groupByCustomer,
  placements,
  validateItems,
  type CustomerOutcome,
} from './ingest.js';
import {
  AppendAnswer,
  BatchAnswer,
  EventInput,
  ExpectedRevisionQuery,
  ExpectedRevisionSchema,
  LooseEventInput,
  type BatchItemResult,
} from './schemas.js';

export interface IngestLimits {
  /** Most events in one request (400 above). Default 1000. */
  readonly maxEventsPerBatch: number;
  /** Largest request body in bytes (413 above). Default 4 MiB. */
  readonly bodyLimit: number;
  /** Most events in one customer stream (409 stream_full above); 0: no cap. Default 1,000,000. */
  readonly maxEventsPerCustomer: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxEventsPerBatch: 1000,
  bodyLimit: 4 * 1024 * 1024,
  maxEventsPerCustomer: 1_000_000,
};

export interface IngestRoutesOptions {
  readonly store: EventStore;
  readonly keys: ApiKeyStore;
  readonly limits?: Partial<IngestLimits>;
  /** Which customer ids are accepted (default `opaque`: no e-mail address or phone number). */
  readonly customerIds?: CustomerIdPolicy;
}

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  409: ErrorBody,
  410: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

const toExpected = (s: string | undefined): ExpectedRevision | undefined =>
  s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : (s as ExpectedRevision);

function answer(
  customerId: string,
  events: readonly RawEnvelope[],
  outcome: Extract<CustomerOutcome, { status: 'appended' | 'duplicate' }>,
): AppendAnswer {
  return {
    customerId,
    streamName: outcome.result.streamName,
    duplicate: outcome.result.duplicate,
    nextExpectedRevision: outcome.result.nextExpectedRevision,
    events: placements(events, outcome.result),
  };
}

/** The answer of a single-stream append: 201 written, 200 all duplicates, 409 conflict, 410 customer erased, 400, 503. */
async function replyWith(
  reply: FastifyReply,
  customerId: string,
  events: readonly RawEnvelope[],
  outcome: CustomerOutcome,
) {
  switch (outcome.status) {
    case 'appended':
      return reply.code(201).send(answer(customerId, events, outcome));
    case 'duplicate':
      return reply.code(200).send(answer(customerId, events, outcome));
    case 'conflict':
      return sendError(
        reply,
        409,
        isWrongExpectedRevision(outcome.error) ? 'wrong_expected_revision' : 'idempotency_conflict',
        describeConflict(outcome.error),
      );
    case 'invalid':
      return outcome.issues[0]?.code === STREAM_FULL
        ? sendError(reply, 409, 'stream_full', outcome.message)
        : sendError(reply, 400, 'invalid_request', outcome.message, outcome.issues);
    case 'gone':
      return sendError(reply, 410, 'customer_erased', describeGone(outcome.customerId));
    case 'unavailable':
      return sendError(
        reply,
        503,
        'unavailable',
        'the event store is unavailable; retry with the same eventIds',
      );
  }
}

/**
 * Erasure is irreversible (it destroys the customer's key): a request holding a `CustomerErased` needs the
 * `erase` scope (or `admin`); any other event needs `append`. A key with only `erase` may post erasures and
 * nothing else. Answers 403 and appends nothing of the request otherwise.
 */
async function refusedErasure(
  req: FastifyRequest,
  reply: FastifyReply,
  items: readonly unknown[],
): Promise<boolean> {
  const isErasure = (i: unknown): boolean =>
    i !== null && typeof i === 'object' && (i as { type?: unknown }).type === 'CustomerErased';
  if (items.some(isErasure) && !requestHolds(req, 'erase')) {
    await sendError(
      reply,
      403,
      'forbidden',
      "the API key lacks the 'erase' scope: CustomerErased destroys the customer's key (nothing was appended)",
    );
    return true;
  }
  if (!items.every(isErasure) && !requestHolds(req, 'append')) {
    await sendError(
      reply,
      403,
      'forbidden',
      "the API key lacks the 'append' scope: an 'erase' key appends CustomerErased only (nothing was appended)",
    );
    return true;
  }
  return false;
}

/**
 * The ingest routes (scope `append`; a `CustomerErased` needs `erase`):
 * - `POST /v1/events`: one event (`?expectedRevision=` optional);
 * - `POST /v1/customers/:customerId/events`: a batch for one customer, atomic;
 * - `POST /v1/events/batch`: a batch across customers, each customer's events atomic, answered per item.
 * Every event is validated against the catalogue before anything is written; a rejected request
 * (400/401/403/409/413/415) appends nothing.
 */
export function registerIngestRoutes(app: HttpApp, options: IngestRoutesOptions): void {
  const limits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };
  const capped = { maxEventsPerCustomer: limits.maxEventsPerCustomer };
  const { store } = options;
  const auth = requireScope(options.keys, ['append', 'erase']);
  const security = [{ apiKey: [] }];

  app.post(
    '/v1/events',
    {
      onRequest: auth,
      bodyLimit: limits.bodyLimit,
      schema: {
        operationId: 'appendEvent',
        tags: ['ingest'],
        summary: 'Append one event',
        description:
          'Appends one event to its customer stream. The eventId is the idempotency key: a retry answers 200 with duplicate=true.',
        security,
        querystring: ExpectedRevisionQuery,
        body: EventInput,
        response: { 201: AppendAnswer, 200: AppendAnswer, ...errors },
      },
    },
    async (req, reply) => {
      if (await refusedErasure(req, reply, [req.body])) return reply;
      const { valid, invalid } = validateItems([req.body], [], options.customerIds);
      if (invalid.length > 0 || valid[0] === undefined) {
        return sendError(
          reply,
          400,
          'invalid_request',
          'the event is invalid',
          // paths from the body's root, as for the schema's own issues (no item index: there is one event)
          invalid.flatMap((i) => i.issues.map((x) => ({ ...x, path: x.path.slice(1) }))),
        );
      }
      const event = valid[0].event;
      const outcome = await appendCustomerEvents(
        store,
        event.customerId,
        [event],
        toExpected(req.query.expectedRevision),
        capped,
      );
      return replyWith(reply, event.customerId, [event], outcome);
    },
  );

  app.post(
    '/v1/customers/:customerId/events',
    {
      onRequest: auth,
      bodyLimit: limits.bodyLimit,
      schema: {
        operationId: 'appendCustomerEvent',
        tags: ['ingest'],
        summary: "Append a batch of one customer's events, atomically",
        description: 'All events or none. Every event must name the customer of the path.',
        security,
        params: z.object({ customerId: CustomerId }),
        body: z.strictObject({
          events: z.array(EventInput).min(1).max(limits.maxEventsPerBatch),
          expectedRevision: ExpectedRevisionSchema.optional(),
        }),
        response: { 201: AppendAnswer, 200: AppendAnswer, ...errors },
      },
    },
    async (req, reply) => {
      if (await refusedErasure(req, reply, req.body.events)) return reply;
      const { customerId } = req.params;
      const { valid, invalid } = validateItems(req.body.events, ['events'], options.customerIds);
      const issues: ValidationIssue[] = invalid.flatMap((i) => i.issues);
      for (const v of valid) {
        if (v.event.customerId !== customerId) {
          issues.push({
            path: ['events', v.index, 'customerId'],
            code: 'customer_mismatch',
            message: `event is for customer '${v.event.customerId}', the path names '${customerId}'`,
          });
        }
      }
      if (issues.length > 0)
        return sendError(reply, 400, 'invalid_request', 'the batch is invalid: nothing was appended', issues);
      const events = valid.map((v) => v.event);
      const outcome = await appendCustomerEvents(
        store,
        customerId,
        events,
        req.body.expectedRevision,
        capped,
      );
      return replyWith(reply, customerId, events, outcome);
    },
  );

  app.post(
    '/v1/events/batch',
    {
      onRequest: auth,
      bodyLimit: limits.bodyLimit,
      schema: {
        operationId: 'appendEventBatch',
        tags: ['ingest'],
        summary: 'Append events of many customers',
        description:
          "Events are grouped by customer; each customer's events are appended atomically (one append per customer stream), " +
          'and every item says what happened to it. 201: everything written (some may be duplicates); 200: everything was a duplicate; ' +
          '207: mixed (some customers conflicted, were invalid or unavailable: see each item); 400: every item is invalid (nothing written).',
        security,
        body: z.strictObject({
          events: z.array(LooseEventInput).min(1).max(limits.maxEventsPerBatch),
          expectedRevisions: z
            .record(CustomerId, ExpectedRevisionSchema)
            .optional()
            .describe('Expected revision per customer id (default any)'),
        }),
        response: { 201: BatchAnswer, 200: BatchAnswer, 207: BatchAnswer, ...errors },
      },
    },
    async (req, reply) => {
      const items = req.body.events;
      if (await refusedErasure(req, reply, items)) return reply;
      const results: BatchItemResult[] = new Array<BatchItemResult>(items.length);
      const { valid, invalid } = validateItems(items, ['events'], options.customerIds);
      for (const i of invalid) {
        results[i.index] = {
          index: i.index,
          status: 'invalid',
          code: 'invalid_request',
          message: 'the event is invalid',
          issues: i.issues.map((x) => ({ ...x, path: [...x.path] })),
        };
      }
      if (invalid.length === items.length) {
        return sendError(
          reply,
          400,
          'invalid_request',
          'every event is invalid: nothing was appended',
          invalid.flatMap((i) => i.issues),
        );
      }
      const groups = groupByCustomer(valid);
      const invalidCustomers = new Set<string>();
      for (const i of invalid) {
        const c = (items[i.index] as { customerId?: unknown } | null)?.customerId;
        if (typeof c === 'string' && groups.has(c)) invalidCustomers.add(c);
      }
      // Customers are appended one after the other: the log order follows the request, and a single
      // SQLite writer gains nothing from concurrency.
      for (const [customerId, group] of groups) {
        const base = (x: { index: number; event: RawEnvelope }) => ({
          index: x.index,
          eventId: x.event.eventId,
          customerId,
        });
        if (invalidCustomers.has(customerId)) {
          for (const x of group) {
            results[x.index] = {
              ...base(x),
              status: 'invalid',
              code: 'invalid_request',
              message: `another event of customer '${customerId}' in this batch is invalid: none of its events was appended`,
            };
          }
          continue;
        }
        const events = group.map((x) => x.event);
        const outcome = await appendCustomerEvents(
          store,
          customerId,
          events,
          // own property only: a customer named `constructor` or `toString` has no inherited revision
          own(req.body.expectedRevisions, customerId),
          capped,
        );
        switch (outcome.status) {
          case 'appended':
          case 'duplicate': {
            const places = placements(events, outcome.result);
            group.forEach((x, k) => {
              results[x.index] = {
                ...base(x),
                status: outcome.status,
                ...places[k],
                eventId: x.event.eventId,
              };
            });
            break;
          }
          case 'conflict': {
            const code = isWrongExpectedRevision(outcome.error)
              ? 'wrong_expected_revision'
              : 'idempotency_conflict';
            const message = describeConflict(outcome.error);
            for (const x of group) results[x.index] = { ...base(x), status: 'conflict', code, message };
            break;
          }
          case 'invalid': {
            const full = outcome.issues[0]?.code === STREAM_FULL;
            for (const x of group) {
              results[x.index] = {
                ...base(x),
                status: full ? 'conflict' : 'invalid',
                code: full ? 'stream_full' : 'invalid_request',
                message: outcome.message,
              };
            }
            break;
          }
          case 'gone':
            // a conflict with the ledger's state: the customer was erased (a single-stream append answers 410)
            for (const x of group) {
              results[x.index] = {
                ...base(x),
                status: 'conflict',
                code: 'customer_erased',
                message: describeGone(customerId),
              };
            }
            break;
          case 'unavailable':
            for (const x of group)
              results[x.index] = {
                ...base(x),
                status: 'unavailable',
                code: 'unavailable',
                message: outcome.message,
              };
            break;
        }
      }
      const counts = { appended: 0, duplicate: 0, conflict: 0, invalid: 0, unavailable: 0 };
      for (const r of results) counts[r.status] += 1;
      if (counts.invalid === results.length) {
        return sendError(
          reply,
          400,
          'invalid_request',
          'every event is invalid: nothing was appended',
          results.flatMap((r) =>
            r.status === 'invalid'
              ? [
                  {
                    path: ['events', r.index],
                    code: r.code ?? 'invalid_request',
                    message: r.message ?? 'invalid',
                  },
                ]
              : [],
          ),
        );
      }
      const status =
        counts.appended + counts.duplicate < results.length ? 207 : counts.appended > 0 ? 201 : 200;
      req.log.info({ ...counts, customers: groups.size }, 'batch ingested');
      return reply.code(status).send({ results, counts });
    },
  );
}
