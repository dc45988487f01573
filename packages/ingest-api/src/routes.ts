import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { EventStore, ExpectedRevision } from '@crm-ledger/core';
import { CustomerId, type RawEnvelope, type ValidationIssue } from '@crm-ledger/events';
import { ErrorBody, requireScope, sendError, type ApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import {
  appendCustomerEvents,
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
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxEventsPerBatch: 1000, bodyLimit: 4 * 1024 * 1024 };

export interface IngestRoutesOptions {
  readonly store: EventStore;
  readonly keys: ApiKeyStore;
  readonly limits?: Partial<IngestLimits>;
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
        outcome.error.type === 'WrongExpectedRevision' ? 'wrong_expected_revision' : 'idempotency_conflict',
        describeConflict(outcome.error),
      );
    case 'invalid':
      return sendError(reply, 400, 'invalid_request', outcome.message, outcome.issues);
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
 * The ingest routes (scope `append`):
 * - `POST /v1/events`: one event (`?expectedRevision=` optional);
 * - `POST /v1/customers/:customerId/events`: a batch for one customer, atomic;
 * - `POST /v1/events/batch`: a batch across customers, each customer's events atomic, answered per item.
 * Every event is validated against the catalogue before anything is written; a rejected request
 * (400/401/403/409/413/415) appends nothing.
 */
export function registerIngestRoutes(app: HttpApp, options: IngestRoutesOptions): void {
  const limits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };
  const { store } = options;
  const auth = requireScope(options.keys, 'append');
  const security = [{ apiKey: [] }];

  app.post(
    '/v1/events',
    {
      onRequest: auth,
      bodyLimit: limits.bodyLimit,
      schema: {
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
      const { valid, invalid } = validateItems([req.body], []);
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
      const { customerId } = req.params;
      const { valid, invalid } = validateItems(req.body.events);
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
      const outcome = await appendCustomerEvents(store, customerId, events, req.body.expectedRevision);
      return replyWith(reply, customerId, events, outcome);
    },
  );

  app.post(
    '/v1/events/batch',
    {
      onRequest: auth,
      bodyLimit: limits.bodyLimit,
      schema: {
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
      const results: BatchItemResult[] = new Array<BatchItemResult>(items.length);
      const { valid, invalid } = validateItems(items);
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
          req.body.expectedRevisions?.[customerId],
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
            const code =
              outcome.error.type === 'WrongExpectedRevision'
                ? 'wrong_expected_revision'
                : 'idempotency_conflict';
            const message = describeConflict(outcome.error);
            for (const x of group) results[x.index] = { ...base(x), status: 'conflict', code, message };
            break;
          }
          case 'invalid':
            for (const x of group) {
              results[x.index] = {
                ...base(x),
                status: 'invalid',
                code: 'invalid_request',
                message: outcome.message,
              };
            }
            break;
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
      const status =
        counts.appended + counts.duplicate < results.length ? 207 : counts.appended > 0 ? 201 : 200;
      req.log.info({ ...counts, customers: groups.size }, 'batch ingested');
      return reply.code(status).send({ results, counts });
    },
  );
}
