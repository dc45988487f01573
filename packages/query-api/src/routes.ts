import type { PiiVault } from '@crm-ledger/pii';
import { z } from 'zod';
import type { Clock, EventStore, ReadModelStore } from '@crm-ledger/core';
import { CustomerId } from '@crm-ledger/events';
import { ErrorBody, requireScope, sendError, type ApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';
import type { HealthWeights } from '@crm-ledger/projections';
import * as E from 'fp-ts/lib/Either.js';
import { ClvQueries } from './clv-routes.js';
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

export interface QueryRoutesOptions {
  readonly store: EventStore;
  readonly readModel: ReadModelStore;
  readonly keys: ApiKeyStore;
  /** "Now" for time-dependent values when a request gives no asOf. */
  readonly clock: Clock;
  /** Health score weights (default: DEFAULT_HEALTH_WEIGHTS). */
  readonly healthWeights?: HealthWeights;
  /** Customer keys: the 360 decrypts contact details with them (null once erased). */
  readonly vault?: PiiVault;
}

const Cell = z.union([z.string(), z.number(), z.null()]);
const RowSchema = z
  .record(z.string(), Cell)
  .readonly()
  .describe('A row of a read-model table (columns as in docs/read-models.md)');
const Rows = z.array(RowSchema).readonly();
const Instant = z.iso.datetime({ offset: false });
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

const Customer360Schema = z
  .object({
    customerId: z.string(),
    asOf: z.string(),
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
      .describe('Contact details (personal data) decrypted with the customer key; null without a key store'),
    service: z.object({ customer: RowSchema.nullable(), tickets: Rows }),
    success: z.object({
      account: RowSchema.nullable(),
      criteria: Rows,
      health: HealthSchema.nullable(),
      churnRisk: ChurnSchema.nullable(),
      daysSilent: z.number().nullable(),
    }),
    experience: z.object({
      customer: RowSchema.nullable(),
      channels: Rows,
      touchpoints: Rows,
      surveys: Rows,
      months: Rows,
      ticketFeedback: Rows,
    }),
    value: z.object({ customer: RowSchema.nullable(), months: Rows, tenureDays: z.number().nullable() }),
    clv: RowSchema.nullable().describe(
      "The customer's clv_customers row from the latest CLV fit (null: no fit, no purchase in its window, or asOf given)",
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
 * The analysts' read API (scope `read`): customer 360 with time travel, account lists with health and churn
 * filters, and aggregates over time windows. Every answer is stable JSON; row objects use the column names of
 * the read-model tables (docs/read-models.md), so HTTP and SQL users see the same fields.
 */
export function registerQueryRoutes(app: HttpApp, options: QueryRoutesOptions): void {
  const ctx: QueryContext = {
    readModel: options.readModel,
    store: options.store,
    ...(options.vault === undefined ? {} : { vault: options.vault }),
    ...(options.healthWeights === undefined ? {} : { weights: options.healthWeights }),
  };
  const auth = requireScope(options.keys, 'read');
  const security = [{ apiKey: [] }];
  const now = (): string => options.clock.now();
  const clvQueries = new ClvQueries(options.readModel);

  app.get(
    '/v1/customers/:customerId',
    {
      onRequest: auth,
      schema: {
        tags: ['views'],
        summary: 'Customer 360: service, success, experience and value views, and the timeline',
        description:
          'Without asOf: the live views, time-dependent values computed for now. With asOf (an instant) or asOfPosition: ' +
          "the customer's stream folded up to that point (events that occurred at or before asOf / stored at or before the position).",
        security,
        params: z.object({ customerId: CustomerId }),
        querystring: z.object({
          asOf: Instant.optional(),
          asOfPosition: z.coerce.number().int().min(0).optional(),
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
      const { asOf, asOfPosition, timeline } = req.query;
      const result = await customer360(ctx, req.params.customerId, asOf ?? now(), {
        timeTravel: asOf !== undefined || asOfPosition !== undefined,
        ...(asOfPosition === undefined ? {} : { asOfPosition }),
        timelineLimit: timeline,
      });
      if (E.isLeft(result)) return sendError(reply, 404, 'not_found', 'no such customer (at that point)');
      const clv =
        result.right.source === 'live' ? await clvQueries.customerRow(req.params.customerId) : undefined;
      return { ...result.right, clv: clv ?? null };
    },
  );

  app.get(
    '/v1/customers',
    {
      onRequest: auth,
      schema: {
        tags: ['views'],
        summary: 'Accounts with health and churn risk: filters, sort, cursor pagination',
        description:
          'segment, silentDays and renewalWithinDays filter in SQL; healthBand and churnRisk depend on asOf and the weights and ' +
          'filter each page after reading it, so a page may hold fewer than limit items: follow nextCursor until it is absent.',
        security,
        querystring: z.object({
          asOf: Instant.optional(),
          segment: z.enum(['B2B', 'B2C']).optional(),
          healthBand: z.enum(['green', 'yellow', 'red']).optional(),
          churnRisk: z.enum(['low', 'medium', 'high']).optional(),
          silentDays: z.coerce.number().int().min(0).max(36_500).optional(),
          renewalWithinDays: z.coerce.number().int().min(0).max(3_650).optional(),
          sort: z
            .enum(['customer_id', 'last_interaction_at', 'next_renewal_date', 'mrr_minor', 'adoption_score'])
            .default('customer_id'),
          direction: z.enum(['asc', 'desc']).default('asc'),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(2000).optional(),
        }),
        response: {
          200: z.object({
            items: z.array(z.object({ account: RowSchema, health: HealthSchema, churnRisk: ChurnSchema })),
            nextCursor: z.string().optional(),
          }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const { asOf, cursor, segment, healthBand, churnRisk, silentDays, renewalWithinDays, ...rest } =
        req.query;
      try {
        return await listCustomers(ctx, {
          asOf: asOf ?? now(),
          ...rest,
          ...(cursor === undefined ? {} : { cursor }),
          ...(segment === undefined ? {} : { segment }),
          ...(healthBand === undefined ? {} : { healthBand }),
          ...(churnRisk === undefined ? {} : { churnRisk }),
          ...(silentDays === undefined ? {} : { silentDays }),
          ...(renewalWithinDays === undefined ? {} : { renewalWithinDays }),
        });
      } catch (error) {
        if (error instanceof Error && error.name === 'InvalidCursor')
          return sendError(reply, 400, 'invalid_request', 'invalid cursor: pass back a nextCursor unchanged');
        throw error;
      }
    },
  );

  const aggregate = <Q extends z.ZodType, R extends z.ZodType>(
    path: string,
    summary: string,
    querystring: Q,
    response: R,
    run: (q: z.infer<Q>) => Promise<z.infer<R>>,
  ): void => {
    // Typed loosely here (a generic route defeats Fastify's inference): `run` is checked against Q and R.
    const schema: object = {
      tags: ['aggregates'],
      summary,
      security,
      querystring,
      response: { 200: response, ...errors },
    };
    app.get(path, { onRequest: auth, schema }, async (req) => run(req.query as z.infer<Q>));
  };

  aggregate(
    '/v1/aggregates/nps',
    'NPS by month and channel in a window',
    WindowQuery,
    z.object({ rows: Rows }),
    async (q) => ({
      rows: await npsByMonthAndChannel(ctx, q),
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
    async (q) => ({
      by: q.by,
      ...(await experienceTrend(ctx, q, {
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
    async (q) => ({ rows: await servicePerformance(ctx, q, q.by, sliceOf(q)) }),
  );
  aggregate(
    '/v1/aggregates/contact-drivers',
    'Tickets per category and month (the contact drivers trend)',
    SliceQuery,
    z.object({ rows: Rows }),
    async (q) => ({
      rows: await contactDrivers(ctx, q, sliceOf(q)),
    }),
  );
  aggregate(
    '/v1/aggregates/retention',
    'Net and gross MRR retention by cohort (month of first MRR), and net revenue by purchase cohort',
    z.object({
      asOf: Instant.optional(),
      months: z.coerce.number().int().min(1).max(60).default(12),
      segment: Segment,
    }),
    z.object({
      mrr: z.array(
        z.object({
          cohort: z.string(),
          customers: z.number(),
          startMrrMinor: z.number(),
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
        }),
      ),
      revenue: Rows,
    }),
    async (q) => ({
      mrr: await mrrRetention(ctx, q.asOf ?? now(), q.months, sliceOf(q)),
      revenue: await revenueRetention(ctx),
    }),
  );
  aggregate(
    '/v1/aggregates/perception-gap',
    'Satisfaction of scored tickets (answered in the window) when the SLA was met vs breached',
    SliceQuery,
    z.object({ rows: Rows }),
    async (q) => ({
      rows: await perceptionGap(ctx, q, sliceOf(q)),
    }),
  );
  aggregate(
    '/v1/aggregates/pain-points',
    'Touchpoints with the worst mean sentiment',
    z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
    z.object({ rows: Rows }),
    async (q) => ({ rows: await painPoints(ctx, q.limit) }),
  );
  aggregate(
    '/v1/aggregates/channels',
    'Channel consistency: mean satisfaction per channel and the spread',
    z.object({}),
    z.object({ channels: Rows, spread: z.number().nullable() }),
    async () => channelConsistency(ctx),
  );
}
