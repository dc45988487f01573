import type { PiiVault } from '@crm-ledger/pii';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { isInvalidCursor, type Clock, type EventStore, type ReadModelStore } from '@crm-ledger/core';
import { Currency, CustomerId, recordFrom, SignalTypeValue } from '@crm-ledger/events';
import {
  ErrorBody,
  limitConcurrency,
  requestHolds,
  requireScope,
  sendError,
  type ApiKeyStore,
  type ConcurrencyLimits,
  type ContactAccessLog,
  type HttpApp,
} from '@crm-ledger/http-kit';
import {
  experienceSpec,
  serviceSpec,
  successSpec,
  valueSpec,
  type HealthWeights,
} from '@crm-ledger/projections';
import { clvReadModelSpec } from '@crm-ledger/clv-ledger';
import * as E from 'fp-ts/lib/Either.js';
import { CutInstant, CutViews, KnownAt, resolveCut, type Cut } from '@crm-ledger/projector';
import { ACCOUNT_SORTS } from './account-list.js';
import { accountSummary } from './account-summary.js';
import { ClvQueries } from './clv-routes.js';
import { ExchangeRates, mergeConversions } from './fx.js';
import { rowSchemaOf } from './table-schema.js';
import { customerSignalsAt } from './customer-signals.js';
import { listSignals, signalFollowUp } from './signals-list.js';
import {
  channelConsistency,
  contactDrivers,
  customer360,
  experienceTrend,
  listCustomers,
  mrrRetention,
  npsByMonthAndChannel,
  painPoints,
  perceptionGap,
  revenueRetention,
  servicePerformance,
  type QueryContext,
} from './queries.js';

/**
 * The object without its undefined members: with exactOptionalPropertyTypes an absent filter must be no key at all,
 * not a key holding undefined.
 */
const present = <T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } =>
  recordFrom(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };

export interface QueryRoutesOptions {
  readonly store: EventStore;
  readonly readModel: ReadModelStore;
  readonly keys: ApiKeyStore;
  /** "Now" for time-dependent values when a request gives no asOf. */
  readonly clock: Clock;
  /** Health score weights (default: DEFAULT_HEALTH_WEIGHTS). */
  readonly healthWeights?: HealthWeights;
  /** Days without interaction after which a customer is silent (default DEFAULT_SILENT_DAYS, 60). */
  readonly silentAfterDays?: number;
  /** Customer keys: the 360 decrypts contact details with them (null once erased). */
  readonly vault?: PiiVault;
  /**
   * Where every read of contact details is recorded (key id, customer id, fields, time). Without it the 360
   * never shows contact details, whatever the key's scopes.
   */
  readonly accessLog?: ContactAccessLog;
  /** 360 requests in flight per key and in all (429 above): default 4 per key, 16 in all. */
  readonly concurrency?: ConcurrencyLimits;
  /**
   * Opens an empty scratch read model of the deployment's kind (SQLite in memory; PostgreSQL a schema of its own,
   * dropped on close): lists and aggregates answer a past cut (asOf, asKnownAt) from the views built into one
   * (`CutViews`). Without it they refuse a cut (400).
   */
  readonly openScratchReadModel?: () => Promise<ReadModelStore>;
  /** Cuts kept built for lists and aggregates (least recently used evicted), default 4. */
  readonly cutCacheSize?: number;
}

const Cell = z.union([z.string(), z.number(), z.null()]);
const RowSchema = z
  .record(z.string(), Cell)
  .readonly()
  .describe('A row of a read-model table (columns as in docs/read-models.md)');
const Rows = z.array(RowSchema).readonly();
/** Every `asOf` of the API: an instant (Z or an offset, normalised to UTC) or a date (its end, UTC). */
const AsOf = CutInstant.describe(
  'As of (business time): an ISO-8601 instant (Z or an offset) or a date YYYY-MM-DD (the end of that day, UTC)',
);
/** The rows of the views' tables, derived from their specs (`table-schema.ts`). */
const row = (spec: Parameters<typeof rowSchemaOf>[0], table: string) => rowSchemaOf(spec, table);
const rows = (spec: Parameters<typeof rowSchemaOf>[0], table: string) =>
  z.array(rowSchemaOf(spec, table)).readonly();
/** Every `asKnownAt` of the API: a global position, an instant or a date. */
const AsKnownAt = z
  .string()
  .max(64)
  .pipe(KnownAt)
  .describe('As known at (ledger time): a global position, an ISO-8601 instant or a date (its end, UTC)');
/** The cut of a list or an aggregate: the same two options, parser and meaning as the 360 and `crm-ledger replay`. */
const CutFields = {
  asOf: AsOf.optional(),
  asKnownAt: AsKnownAt.optional(),
};
const CUT_DESCRIPTION =
  ' With asOf (business time: events that occurred by then) and/or asKnownAt (ledger time: events stored by that ' +
  'position or instant), the answer is computed over the views as of that cut: the rows a `crm-ledger replay ' +
  '--as-of ... --as-known-at ...` would hold (built once per cut into a scratch read model and kept; see ' +
  'docs/read-models.md "Cuts"). Time-dependent values are computed for asOf (default now).';
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

const HealthSchema = z
  .object({
    score: z.number(),
    band: z.enum(['green', 'yellow', 'red']),
    daysSinceLastInteraction: z.number().nullable(),
    components: z
      .array(z.object({ name: z.string(), score: z.number(), weight: z.number(), contribution: z.number() }))
      .readonly(),
  })
  .meta({ id: 'Health', description: 'The health score with every component, its weight and contribution' });
const ChurnSchema = z
  .object({
    risk: z.enum(['low', 'medium', 'high']),
    reasons: z.array(z.object({ reason: z.string(), points: z.number() })).readonly(),
  })
  .meta({ id: 'ChurnRisk' });

const SignalSchema = z
  .object({
    signalId: z.string().describe('The event id of the signal'),
    customerId: z.string(),
    type: SignalTypeValue,
    raisedAt: z.string().describe('When the rule fired (the signal event occurredAt, UTC)'),
    status: z
      .enum(['open', 'acted', 'dismissed'])
      .describe(
        'open until an OutreachMade or TicketOpened names it (causationId) or a SignalAcknowledged closes it',
      ),
    closedAt: z.string().nullable(),
    closedBy: z.enum(['OutreachMade', 'TicketOpened', 'SignalAcknowledged']).nullable(),
    closedByEventId: z.string().nullable().describe('The event id of the event that closed it'),
    minutesToAction: z
      .number()
      .nullable()
      .describe('Whole minutes from the signal to the event that closed it (null while open)'),
    data: z
      .record(z.string(), z.unknown())
      .readonly()
      .describe("The signal's data (ids, numbers, enumerations: no personal data)"),
  })
  .meta({ id: 'Signal', description: 'A signal (issue #16) and where it stands' });
const SignalSummarySchema = z
  .object({
    raised: z.number(),
    open: z.number(),
    acted: z.number(),
    dismissed: z.number(),
    actedSharePct: z
      .number()
      .nullable()
      .describe('acted / raised in percent, one decimal (null: none raised)'),
    medianMinutesToAction: z.number().nullable().describe('Over the acted ones (null: none acted)'),
  })
  .meta({ id: 'SignalSummary' });

const FollowUpSchema = z.object({
  count: z.number().describe('Signals raised'),
  open: z.number(),
  acted: z.number(),
  dismissed: z.number(),
  actedSharePct: z.number().nullable().describe('acted / count in percent, one decimal (null: none raised)'),
  medianMinutesToAction: z
    .number()
    .nullable()
    .describe('Median minutes from signal to action over the acted ones (null: none acted)'),
});

const Customer360Schema = z
  .object({
    customerId: z.string(),
    asOf: z
      .string()
      .describe('The instant time-dependent values are computed for (and the business-time cut when folded)'),
    asKnownAt: z
      .number()
      .nullable()
      .describe(
        'The ledger-time cut: the global position the fold stopped at (null: everything the ledger knows)',
      ),
    source: z.enum(['live', 'folded']),
    contact: z
      .object({
        name: z.string().nullable(),
        email: z.string().nullable(),
        phone: z.string().nullable(),
        erased: z
          .boolean()
          .describe('The customer was erased: their key is destroyed, personal fields are null'),
      })
      .nullable()
      .describe(
        "Contact details (personal data) decrypted with the customer key: only for keys with the 'contact' scope, " +
          'each read recorded in the access log; null otherwise (and without a key store)',
      ),
    service: z.object({
      customer: row(serviceSpec, 'service_customers').nullable(),
      tickets: rows(serviceSpec, 'service_tickets'),
    }),
    stale: z
      .array(z.object({ view: z.string(), position: z.number(), eventId: z.string() }).readonly())
      .readonly()
      .describe(
        'Views whose rows of this customer are stale: applying one of its events threw and the view holds the customer (crm-ledger held); empty when all are up to date',
      ),
    success: z.object({
      account: row(successSpec, 'success_accounts').nullable(),
      criteria: rows(successSpec, 'success_criteria'),
      health: HealthSchema.nullable(),
      churnRisk: ChurnSchema.nullable(),
      daysSilent: z.number().nullable(),
    }),
    experience: z.object({
      customer: row(experienceSpec, 'experience_customers').nullable(),
      channels: rows(experienceSpec, 'experience_channels'),
      touchpoints: rows(experienceSpec, 'experience_touchpoints'),
      surveys: rows(experienceSpec, 'experience_surveys'),
      months: rows(experienceSpec, 'experience_months'),
      ticketFeedback: rows(experienceSpec, 'experience_ticket_feedback'),
    }),
    value: z.object({
      customer: row(valueSpec, 'value_customers').nullable(),
      currencies: rows(valueSpec, 'value_currencies').describe(
        'The amounts in each currency the customer paid in (value_currencies)',
      ),
      months: rows(valueSpec, 'value_months'),
      tenureDays: z.number().nullable(),
    }),
    clv: row(clvReadModelSpec, 'clv_customers')
      .nullable()
      .describe(
        "The customer's clv_customers row from the latest CLV fit (null: no fit, no purchase in its window, or asOf given)",
      ),
    signals: z
      .object({ signals: z.array(SignalSchema).readonly(), summary: SignalSummarySchema })
      .describe(
        "The customer's signals, oldest first, each open, acted or dismissed: live, from the success view's success_signals rows (no read of the stream); at a cut (asOf or asKnownAt), from the cut's fold as of asOf, as GET /v1/customers/{customerId}/signals answers",
      ),
    timeline: z
      .array(
        z.object({
          position: z.number(),
          occurredAt: z.string(),
          recordedAt: z.string(),
          type: z.string(),
          data: z.record(z.string(), z.unknown()).readonly(),
        }),
      )
      .readonly(),
  })
  .meta({ id: 'Customer360' });

/** The cut of a customer read (the 360 and its signals): business time, ledger time, or both. */
const CutQuery = z.object({
  asOf: AsOf.optional(),
  asKnownAt: z
    .string()
    .max(64)
    .pipe(KnownAt)
    .optional()
    .describe('As known at (ledger time): a global position, an ISO-8601 instant or a date'),
  asOfPosition: z.coerce.number().int().min(0).optional().describe('Deprecated: asKnownAt=<position>'),
});

const WindowQuery = z.object({
  from: z.iso.date().default('1970-01-01').describe('Inclusive start (YYYY-MM-DD)'),
  to: z.iso.date().default('9999-12-31').describe('Exclusive end (YYYY-MM-DD)'),
});
const Segment = z.enum(['B2B', 'B2C']).optional().describe('Only customers of this segment');
const Channel = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/)
  .optional()
  .describe('Only interactions on this channel (e.g. email, chat, web)');
const SliceQuery = WindowQuery.extend({ segment: Segment, channel: Channel });
const sliceOf = (q: { segment?: string | undefined; channel?: string | undefined }) => ({
  ...(q.segment === undefined ? {} : { segment: q.segment }),
  ...(q.channel === undefined ? {} : { channel: q.channel }),
});
const ExperienceRow = z
  .object({
    metric: z.enum(['NPS', 'CSAT', 'CES']),
    period: z.string().describe('YYYY-MM (by=month) or YYYY-Qn (by=quarter)'),
    channel: z.string().optional().describe('Absent in totals'),
    responses: z.number(),
    value: z
      .number()
      .nullable()
      .describe('NPS: % promoters - % detractors; CSAT: % satisfied (4-5); CES: mean score (1-7)'),
    mean_score: z.number().nullable(),
    satisfied_pct: z.number().nullable().describe('NPS 9-10, CSAT 4-5, CES 5-7'),
    promoters: z.number(),
    detractors: z.number(),
  })
  .meta({ id: 'ExperienceTrendRow' });

/**
 * The analysts' read API (scope `read`; contact details in the 360 also need `contact`): customer 360 with time travel, account lists with health and churn
 * filters, and aggregates over time windows. Every answer is stable JSON; row objects use the column names of
 * the read-model tables (docs/read-models.md), so HTTP and SQL users see the same fields.
 */
export function registerQueryRoutes(app: HttpApp, options: QueryRoutesOptions): void {
  const ctx: QueryContext = {
    readModel: options.readModel,
    store: options.store,
    ...(options.vault === undefined ? {} : { vault: options.vault }),
    ...(options.healthWeights === undefined ? {} : { weights: options.healthWeights }),
    ...(options.silentAfterDays === undefined ? {} : { silentAfterDays: options.silentAfterDays }),
  };
  const auth = requireScope(options.keys, 'read');
  // the 360 (a stream read, time travel a fold): the key's scope, then a slot of the bounded concurrency (429 when
  // none is free). Lists and aggregates are SQL over the read models; the dashboard fires several at once.
  const heavy = [auth, limitConcurrency(options.concurrency ?? { perKey: 4, total: 16 })];
  const security = [{ apiKey: [] }];
  const now = (): string => options.clock.now();
  const clvQueries = new ClvQueries(options.readModel);
  const openScratch = options.openScratchReadModel;
  const cutViews =
    openScratch === undefined
      ? undefined
      : new CutViews({
          store: options.store,
          openScratch,
          ...(options.cutCacheSize === undefined ? {} : { capacity: options.cutCacheSize }),
        });
  if (cutViews !== undefined) app.addHook('onClose', () => cutViews.close());

  /**
   * Runs a list or aggregate query at the cut a request asks for: the live views without one, else the views
   * as of the cut (`CutViews`). Undefined when the request asks for a cut and this server cannot build one.
   */
  const atCut = async <T>(
    q: { asOf?: string | undefined; asKnownAt?: KnownAt | undefined },
    run: (c: QueryContext, at: { asOf: string; cut: Cut }) => Promise<T>,
  ): Promise<{ answer: T } | undefined> => {
    const asOf = q.asOf ?? now();
    if (q.asOf === undefined && q.asKnownAt === undefined)
      return { answer: await run(ctx, { asOf, cut: {} }) };
    if (cutViews === undefined) return undefined;
    const cut = await resolveCut(options.store, {
      ...(q.asOf === undefined ? {} : { asOf: q.asOf }),
      ...(q.asKnownAt === undefined ? {} : { asKnownAt: q.asKnownAt }),
    });
    return { answer: await cutViews.withCut(cut, (readModel) => run({ ...ctx, readModel }, { asOf, cut })) };
  };
  const NO_CUTS =
    'this server builds no views for a past cut (no scratch read model): rebuild the views with crm-ledger replay --as-of/--as-known-at';
  /** A paged list at the request's cut: 400 when this server builds no cuts or the cursor is not one of ours. */
  const listAtCut = async <T>(
    reply: FastifyReply,
    q: { asOf?: string | undefined; asKnownAt?: KnownAt | undefined },
    run: (c: QueryContext, at: { asOf: string; cut: Cut }) => Promise<T>,
  ): Promise<T | FastifyReply> => {
    try {
      const done = await atCut(q, run);
      if (done === undefined) return sendError(reply, 400, 'invalid_request', NO_CUTS);
      return done.answer;
    } catch (error) {
      if (isInvalidCursor(error))
        return sendError(reply, 400, 'invalid_request', 'invalid cursor: pass back a nextCursor unchanged');
      throw error;
    }
  };

  app.get(
    '/v1/customers/:customerId',
    {
      onRequest: heavy,
      schema: {
        operationId: 'getCustomer360',
        tags: ['views'],
        summary: 'Customer 360: service, success, experience and value views, and the timeline',
        description:
          'Without a cut: the live views, time-dependent values computed for now. With asOf (business time: events that ' +
          'occurred at or before it, whenever recorded) and/or asKnownAt (ledger time: events stored at or before that ' +
          "position, or recorded by that instant): the customer's events in the cut folded in log order, the same rows " +
          'a `crm-ledger replay --as-of ... --as-known-at ...` gives. asOfPosition is the old name of asKnownAt=<position>.',
        security,
        params: z.object({ customerId: CustomerId }),
        querystring: z.object({
          asOf: AsOf.optional(),
          asKnownAt: AsKnownAt.optional(),
          asOfPosition: z.coerce
            .number()
            .int()
            .min(0)
            .optional()
            .describe('Deprecated: asKnownAt=<position>'),
          timeline: z.coerce
            .number()
            .int()
            .min(0)
            .max(1000)
            .default(50)
            .describe('Most recent timeline entries'),
        }),
        response: { 200: Customer360Schema, ...errors },
      },
    },
    async (req, reply) => {
      const { asOf, asKnownAt, asOfPosition, timeline } = req.query;
      const accessLog = options.accessLog;
      const withContact = accessLog !== undefined && ctx.vault !== undefined && requestHolds(req, 'contact');
      if (asKnownAt !== undefined && asOfPosition !== undefined)
        return sendError(
          reply,
          400,
          'invalid_request',
          'give asKnownAt or asOfPosition (its old name), not both',
        );
      const known = asKnownAt ?? (asOfPosition === undefined ? undefined : { position: asOfPosition });
      const cut = await resolveCut(options.store, {
        ...(asOf === undefined ? {} : { asOf }),
        ...(known === undefined ? {} : { asKnownAt: known }),
      });
      const result = await customer360(ctx, req.params.customerId, asOf ?? now(), {
        ...(asOf === undefined && known === undefined ? {} : { cut }),
        timelineLimit: timeline,
        withContact,
      });
      if (E.isLeft(result)) return sendError(reply, 404, 'not_found', 'no such customer (at that point)');
      if (withContact && result.right.contact !== null) {
        // recorded before the answer leaves: a read that cannot be logged is not answered (500)
        await accessLog.record({
          at: now(),
          keyId: req.apiKeyId ?? '',
          customerId: req.params.customerId,
          fields: ['name', 'email', 'phone'],
        });
      }
      const clv =
        result.right.source === 'live' ? await clvQueries.customerRow(req.params.customerId) : undefined;
      return { ...result.right, clv: clv ?? null };
    },
  );

  app.get(
    '/v1/customers/:customerId/signals',
    {
      onRequest: heavy,
      schema: {
        operationId: 'getCustomerSignals',
        tags: ['views'],
        summary: "A customer's signals (issue #16): open, acted or dismissed, with the minutes to action",
        description:
          "Read from the customer's stream: every signal the signal engine raised for them, each open until an OutreachMade " +
          'or TicketOpened whose causationId is the signal id, or a SignalAcknowledged naming it, closes it (acted or ' +
          'dismissed); voided events count for nothing. The same cut as the 360: asOf (business time, default now: ' +
          'events that occurred at or before it) and/or asKnownAt (ledger time). status and type filter the list; ' +
          'summary counts the signals of the type filter (all types without it), whatever the status filter.',
        security,
        params: z.object({ customerId: CustomerId }),
        querystring: CutQuery.extend({
          status: z.enum(['open', 'acted', 'dismissed']).optional().describe('Only signals with this status'),
          type: SignalTypeValue.optional().describe('Only signals of this type'),
        }),
        response: {
          200: z.object({
            customerId: z.string(),
            asOf: z.string().describe('The instant statuses are computed for'),
            asKnownAt: z
              .number()
              .nullable()
              .describe('The ledger-time cut (a global position); null: everything the ledger knows'),
            signals: z.array(SignalSchema).readonly().describe('Oldest first'),
            summary: SignalSummarySchema,
          }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const result = await customerSignalsAt(options.store, req.params.customerId, req.query, now());
      if (E.isLeft(result))
        return result.left === 'not_found'
          ? sendError(reply, 404, 'not_found', 'no such customer (at that point)')
          : sendError(
              reply,
              400,
              'invalid_request',
              'give asKnownAt or asOfPosition (its old name), not both',
            );
      return result.right;
    },
  );

  app.get(
    '/v1/customers',
    {
      onRequest: auth,
      schema: {
        operationId: 'listCustomers',
        tags: ['views'],
        summary: 'Accounts with health and churn risk: filters, sort, cursor pagination',
        description:
          "Every filter (segment, healthBand, churnRisk, silentDays, renewalWithinDays, currency) and the sort run in the store's SQL " +
          'before paging: a page holds up to limit matching accounts, and nextCursor (absent on the last page) continues ' +
          'the same sort. silentAfterDays is the configured silence threshold (CRM_LEDGER_SILENT_DAYS) of the churn reason ' +
          'and the dashboard.' +
          CUT_DESCRIPTION,
        security,
        querystring: z.object({
          ...CutFields,
          segment: z.enum(['B2B', 'B2C']).optional(),
          healthBand: z.enum(['green', 'yellow', 'red']).optional(),
          churnRisk: z.enum(['low', 'medium', 'high']).optional(),
          silentDays: z.coerce.number().int().min(0).max(36_500).optional(),
          renewalWithinDays: z.coerce.number().int().min(0).max(3_650).optional(),
          currency: Currency.optional().describe(
            'Only accounts whose MRR is in this ISO 4217 currency (mrr_currency): sort by mrr_minor within one currency',
          ),
          sort: z
            .enum(ACCOUNT_SORTS)
            .default('customer_id')
            .describe(
              'health_score, churn_risk (by churn points), days_silent (never = most silent), mrr_minor, ...',
            ),
          direction: z.enum(['asc', 'desc']).default('asc'),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(2000).optional(),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                account: row(successSpec, 'success_accounts'),
                health: HealthSchema,
                churnRisk: ChurnSchema,
              }),
            ),
            nextCursor: z.string().optional(),
            silentAfterDays: z
              .number()
              .describe('Days without interaction after which a customer is silent (CRM_LEDGER_SILENT_DAYS)'),
          }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const {
        asOf,
        asKnownAt,
        cursor,
        segment,
        healthBand,
        churnRisk,
        silentDays,
        renewalWithinDays,
        currency,
        ...rest
      } = req.query;
      return listAtCut(reply, { asOf, asKnownAt }, (c, at) =>
        listCustomers(c, {
          asOf: at.asOf,
          ...rest,
          ...present({ cursor, segment, healthBand, churnRisk, silentDays, renewalWithinDays, currency }),
        }),
      );
    },
  );

  /** since/until of the signal list: an instant (Z or an offset) or a date (its start, UTC). */
  const SignalInstant = z.union(
    [
      z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString()),
      z.iso.date().transform((d) => `${d}T00:00:00.000Z`),
    ],
    { error: 'an ISO-8601 instant with Z or an offset, or a date YYYY-MM-DD' },
  );
  app.get(
    '/v1/signals',
    {
      onRequest: auth,
      schema: {
        operationId: 'listSignals',
        tags: ['views'],
        summary: 'Signals across customers (issue #16): open, acted or dismissed; filters, cursor pagination',
        description:
          "From the success view's success_signals table (maintained by the projector, no read of the log): every signal " +
          'the signal engine raised, newest first (occurredAt, then signal id), each open until an OutreachMade or ' +
          'TicketOpened whose causationId is the signal id, or a SignalAcknowledged naming it, closes it (acted or ' +
          'dismissed); a voided action closes nothing. The same statuses as GET /v1/customers/{customerId}/signals ' +
          'for every signal the views hold. Every filter runs in SQL before paging: a page holds up to limit ' +
          'signals, and nextCursor (absent on the last page) continues it. No personal data.' +
          CUT_DESCRIPTION,
        security,
        querystring: z.object({
          ...CutFields,
          status: z.enum(['open', 'acted', 'dismissed']).optional().describe('Only signals with this status'),
          type: SignalTypeValue.optional().describe('Only signals of this type'),
          customerId: CustomerId.optional().describe('Only the signals of this customer'),
          segment: Segment,
          since: SignalInstant.optional().describe(
            'Only signals that occurred at or after this instant (a date: its start, UTC)',
          ),
          until: SignalInstant.optional().describe(
            'Only signals that occurred before this instant (exclusive; a date: its start, UTC)',
          ),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(2000).optional().describe('nextCursor of the previous page, unchanged'),
        }),
        response: {
          200: z.object({
            items: z
              .array(
                SignalSchema.extend({
                  position: z.number().describe('Global position of the signal event'),
                }).meta({ id: 'ListedSignal' }),
              )
              .readonly()
              .describe('Newest first'),
            nextCursor: z.string().optional(),
          }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const { asOf, asKnownAt, cursor, status, type, customerId, segment, since, until, limit } = req.query;
      return listAtCut(reply, { asOf, asKnownAt }, (c) =>
        listSignals(c, { limit, ...present({ cursor, status, type, customerId, segment, since, until }) }),
      );
    },
  );

  const aggregate = <Q extends z.ZodObject, R extends z.ZodType>(
    path: string,
    summary: string,
    querystring: Q,
    response: R,
    run: (
      q: z.infer<Q> & { asOf?: string; asKnownAt?: KnownAt },
      c: QueryContext,
      at: { asOf: string; cut: Cut },
    ) => Promise<z.infer<R>>,
  ): void => {
    // Typed loosely here (a generic route defeats Fastify's inference): `run` is checked against Q and R.
    const schema: object = {
      tags: ['aggregates'],
      summary,
      description: `${summary}.${CUT_DESCRIPTION}`,
      security,
      querystring: querystring.extend(CutFields),
      response: { 200: response, ...errors },
    };
    app.get(path, { onRequest: auth, schema }, async (req, reply) => {
      const q = req.query as z.infer<Q> & { asOf?: string; asKnownAt?: KnownAt };
      const done = await atCut(q, (c, at) => run(q, c, at));
      return done === undefined ? sendError(reply, 400, 'invalid_request', NO_CUTS) : done.answer;
    });
  };

  aggregate(
    '/v1/aggregates/nps',
    'NPS by month and channel in a window',
    WindowQuery,
    z.object({ rows: Rows }),
    async (q, c) => ({
      rows: await npsByMonthAndChannel(c, q),
    }),
  );
  aggregate(
    '/v1/aggregates/experience-trend',
    'NPS, CSAT and CES by channel over months (or quarters): answers and the headline value per period and channel',
    SliceQuery.extend({
      by: z.enum(['month', 'quarter']).default('month'),
      metric: z.enum(['nps', 'csat', 'ces']).optional().describe('One metric (default: all three)'),
    }),
    z.object({
      by: z.enum(['month', 'quarter']),
      rows: z.array(ExperienceRow).describe('Per metric, period and channel, sorted by them'),
      totals: z.array(ExperienceRow).describe('Per metric and period over the channels of the slice'),
    }),
    async (q, c) => ({
      by: q.by,
      ...(await experienceTrend(c, q, {
        by: q.by,
        ...sliceOf(q),
        ...(q.metric === undefined ? {} : { metric: q.metric.toUpperCase() as 'NPS' | 'CSAT' | 'CES' }),
      })),
    }),
  );
  aggregate(
    '/v1/aggregates/service',
    'First-reply and resolution p50/p90/p99 (minutes) with the SLA targets, breach, reopen and one-touch rates, by priority or channel',
    SliceQuery.extend({ by: z.enum(['priority', 'channel']).default('priority') }),
    z.object({ rows: Rows }),
    async (q, c) => ({ rows: await servicePerformance(c, q, q.by, sliceOf(q)) }),
  );
  aggregate(
    '/v1/aggregates/contact-drivers',
    'Tickets per category and month (the contact drivers trend)',
    SliceQuery,
    z.object({ rows: Rows }),
    async (q, c) => ({
      rows: await contactDrivers(c, q, sliceOf(q)),
    }),
  );
  const CohortSchema = z
    .object({
      cohort: z.string(),
      currency: z.string().describe('ISO 4217 currency of every amount of this cohort'),
      customers: z.number(),
      startMrrMinor: z.number().describe('Minor units of currency (ISO 4217 exponent: JPY 0, USD 2, BHD 3)'),
      months: z
        .array(
          z.object({
            offset: z.number(),
            month: z.string(),
            mrrMinor: z.number(),
            nrrPct: z.number(),
            grrPct: z.number(),
          }),
        )
        .readonly(),
    })
    .meta({ id: 'MrrCohort' });
  const ConvertedCohortSchema = z
    .object({
      cohort: z.string(),
      currency: z.string().describe('The reporting currency'),
      customers: z.number(),
      startMrrMinor: z
        .number()
        .nullable()
        .describe('Minor units of the reporting currency; null: an amount had no rate at its date'),
      months: z
        .array(
          z.object({
            offset: z.number(),
            month: z.string(),
            mrrMinor: z.number().nullable().describe('null: an amount of this month had no rate at its date'),
            nrrPct: z.number().nullable(),
            grrPct: z.number().nullable(),
          }),
        )
        .readonly(),
    })
    .meta({ id: 'ConvertedMrrCohort' });
  const ConversionSchema = z
    .object({
      currency: z.string().describe('The reporting currency of every converted amount'),
      rule: z
        .string()
        .describe('The date each amount is converted at (its rate: the latest recorded on or before it)'),
      rates: z
        .array(
          z.object({
            base: z.string(),
            quote: z.string(),
            date: z.string().describe('The date the rate was recorded for'),
            rate: z.string(),
            inverted: z.boolean().describe('The pair was recorded the other way round: 1/rate was used'),
          }),
        )
        .readonly()
        .describe('Every rate used (distinct pairs and dates)'),
      unconverted: z
        .array(z.object({ currency: z.string(), date: z.string() }))
        .readonly()
        .describe(
          'Amounts with no rate on or before their date: every figure they are part of is null (never guessed)',
        ),
    })
    .meta({ id: 'Conversion' });
  /** The exchange rates known at a cut: dated by its business day, stored by its position. */
  const ratesAt = (at: { asOf: string; cut: Cut }) =>
    ExchangeRates.load(options.store, {
      asOfDay: at.asOf.slice(0, 10),
      ...(at.cut.position === undefined ? {} : { position: at.cut.position }),
    });
  aggregate(
    '/v1/aggregates/retention',
    'Net and gross MRR retention by cohort (month of first MRR) and net revenue by purchase cohort, per currency; with ?currency=, also converted into that reporting currency, each month at the exchange rates recorded in the ledger for that month',
    z.object({
      months: z.coerce.number().int().min(1).max(60).default(12),
      segment: Segment,
      currency: Currency.optional().describe(
        "A reporting currency: adds `converted`, each month's amounts at the rate recorded (ExchangeRateRecorded) on or before the month's end",
      ),
    }),
    z.object({
      mrr: z
        .array(CohortSchema)
        .describe('Per currency and cohort: amounts are never summed across currencies'),
      revenue: Rows.describe('Per currency, cohort and month'),
      converted: z
        .object({ conversion: ConversionSchema, mrr: z.array(ConvertedCohortSchema), revenue: Rows })
        .optional()
        .describe('Only with ?currency='),
    }),
    async (q, c, at) => {
      const convert =
        q.currency === undefined ? undefined : { currency: q.currency, rates: await ratesAt(at) };
      const mrr = await mrrRetention(c, at.asOf, q.months, sliceOf(q), convert);
      const revenue = await revenueRetention(
        c,
        convert === undefined ? undefined : { ...convert, day: at.asOf.slice(0, 10) },
      );
      return {
        mrr: mrr.cohorts,
        revenue: revenue.rows,
        ...(mrr.converted === undefined || revenue.converted === undefined
          ? {}
          : {
              converted: {
                // one statement of what was converted and how: both parts use the same rates and rule
                conversion: mergeConversions(mrr.converted.conversion, revenue.converted.conversion),
                mrr: mrr.converted.cohorts,
                revenue: revenue.converted.rows,
              },
            }),
      };
    },
  );
  aggregate(
    '/v1/aggregates/accounts',
    'Account counts behind the dashboard KPIs: customers by health band, churn risk and 10-point health bin, silent customers, renewals and their MRR per currency (with ?currency=, also converted), and the signal follow-up per signal type (raised, open, acted, dismissed, share acted on, median minutes to action)',
    z.object({
      segment: Segment,
      renewalWithinDays: z.coerce.number().int().min(0).max(3_650).default(90),
      currency: Currency.optional().describe(
        "A reporting currency: adds renewals.converted, the renewals' MRR at the rates recorded on or before the as-of day",
      ),
    }),
    z.object({
      asOf: z.string(),
      silentAfterDays: z.number(),
      renewalWithinDays: z.number(),
      customers: z.number(),
      bands: z.object({ green: z.number(), yellow: z.number(), red: z.number() }),
      churnRisk: z.object({ low: z.number(), medium: z.number(), high: z.number() }),
      healthBins: z
        .array(z.object({ from: z.number(), green: z.number(), yellow: z.number(), red: z.number() }))
        .readonly(),
      silent: z.number().describe('No interaction for at least silentAfterDays (or never)'),
      renewals: z.object({
        customers: z.number(),
        mrr: z
          .array(z.object({ currency: z.string().nullable(), minor: z.number() }))
          .readonly()
          .describe('Per currency (minor units, ISO 4217 exponents): never summed across currencies'),
        converted: z
          .object({
            minor: z
              .number()
              .nullable()
              .describe('The MRR in the reporting currency; null: a currency had no rate on the as-of day'),
            conversion: ConversionSchema,
          })
          .optional()
          .describe('Only with ?currency='),
      }),
      signals: z
        .object({
          byType: z.array(FollowUpSchema.extend({ type: SignalTypeValue })).readonly(),
          total: FollowUpSchema,
        })
        .describe(
          'Signal follow-up (issue #16) over success_signals: per signal type (only types raised) and over all',
        ),
    }),
    async (q, c, at) => ({
      ...(await accountSummary(c, {
        asOf: at.asOf,
        renewalWithinDays: q.renewalWithinDays,
        ...(q.segment === undefined ? {} : { segment: q.segment }),
        ...(q.currency === undefined ? {} : { convert: { currency: q.currency, rates: await ratesAt(at) } }),
      })),
      signals: await signalFollowUp(c, q.segment),
    }),
  );
  aggregate(
    '/v1/aggregates/perception-gap',
    'Satisfaction of scored tickets (answered in the window) when the SLA was met vs breached',
    SliceQuery,
    z.object({ rows: Rows }),
    async (q, c) => ({
      rows: await perceptionGap(c, q, sliceOf(q)),
    }),
  );
  aggregate(
    '/v1/aggregates/pain-points',
    'Touchpoints with the worst mean sentiment',
    z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
    z.object({ rows: Rows }),
    async (q, c) => ({ rows: await painPoints(c, q.limit) }),
  );
  aggregate(
    '/v1/aggregates/channels',
    'Channel consistency: mean satisfaction per channel and the spread',
    z.object({}),
    z.object({ channels: Rows, spread: z.number().nullable() }),
    async (_q, c) => channelConsistency(c),
  );
}
