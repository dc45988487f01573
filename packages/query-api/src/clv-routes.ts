import { z } from 'zod';
import { clvReadModelSpec, distributionBySegment, latestRefitAttempt } from '@crm-ledger/clv-ledger';
import type { ComponentHealth, ReadModelStore, Row } from '@crm-ledger/core';
import { CustomerId } from '@crm-ledger/events';
import { ErrorBody, requireScope, sendError, type ApiKeyStore, type HttpApp } from '@crm-ledger/http-kit';

export interface ClvRoutesOptions {
  readonly readModel: ReadModelStore;
  readonly keys: ApiKeyStore;
  /**
   * The status board the scheduled refit of this process reports on (entry `clv-refit`): a refit that failed
   * or is retrying is told on `GET /v1/clv/status`. Without it the status only knows the stored fit.
   */
  readonly refitStatus?: { get(name: string): ComponentHealth | undefined };
}

const ClvStatusSchema = z
  .object({
    state: z
      .enum(['none', 'failed', 'fitted'])
      .describe(
        'none: no fit stored and no failed refit known; failed: no fit stored and the latest refit failed; fitted: a fit is stored (the latest refit may still have failed since: see refit)',
      ),
    fit: z
      .object({
        fittedAt: z.string(),
        observationEnd: z.string(),
        currency: z.string(),
        customers: z.number(),
      })
      .nullable(),
    refit: z
      .object({
        state: z.enum(['failed', 'retrying']),
        at: z.string().describe('When it failed (retrying: since when)'),
        error: z.string(),
      })
      .nullable()
      .describe(
        "The refit schedule's trouble, when this process runs it and the latest attempt failed; or, with no fit stored, the latest recorded attempt's refusal (any process)",
      ),
    lastAttempt: z
      .object({
        at: z.string().describe('When the latest scheduled refit ran'),
        outcome: z.enum(['fitted', 'refused']),
        reason: z
          .string()
          .nullable()
          .describe('Why the data cannot support a fit (NotConverged, NotIdentified, ...); null when fitted'),
        detail: z.string().nullable(),
      })
      .nullable()
      .describe(
        'The latest scheduled refit attempt recorded in the read model (clv_refit_attempts), by any process',
      ),
  })
  .meta({ id: 'ClvStatus' });

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

const ClvFitSchema = z
  .object({
    fittedAt: z.string(),
    window: z.object({ firstPurchaseDay: z.string(), observationEnd: z.string(), daysPerUnit: z.number() }),
    currency: z.string(),
    bgNbd: z.object({
      r: z.number(),
      alpha: z.number(),
      a: z.number(),
      b: z.number(),
      logLikelihood: z.number(),
      customers: z.number(),
      repeatBuyers: z.number(),
    }),
    gammaGamma: z.object({ p: z.number(), q: z.number(), v: z.number(), logLikelihood: z.number() }),
  })
  .meta({ id: 'ClvFit', description: 'The latest predictive CLV fit: parameters, fit date, data window' });
export type ClvFit = z.infer<typeof ClvFitSchema>;

const CustomerClvSchema = z
  .object({
    customerId: z.string(),
    pAlive: z.number(),
    expectedPurchases: z.number().describe('Expected purchases over `horizon` model time units'),
    horizon: z.number(),
    expectedSpend: z
      .number()
      .describe('Expected value of a future purchase (major units of the fit currency)'),
    clv: z.number().describe('Discounted expected revenue over clvMonths (major units)'),
    clvMonths: z.number(),
    monthlyDiscountRate: z.number(),
    history: z.object({
      frequency: z.number(),
      recency: z.number(),
      age: z.number(),
      meanRepeatSpend: z.number(),
    }),
    fit: ClvFitSchema,
  })
  .meta({ id: 'CustomerClv' });

const METRICS = ['clv', 'p_alive', 'expected_purchases', 'expected_spend'] as const;
const GROUPINGS = ['segment', 'acquisition_channel', 'cohort_month'] as const;

const num = (row: Row, column: string): number => Number(row[column]);
const str = (row: Row, column: string): string => String(row[column]);

function fitOf(row: Row): ClvFit {
  return {
    fittedAt: str(row, 'fitted_at'),
    window: {
      firstPurchaseDay: str(row, 'first_purchase_day'),
      observationEnd: str(row, 'observation_end'),
      daysPerUnit: num(row, 'days_per_unit'),
    },
    currency: str(row, 'currency'),
    bgNbd: {
      r: num(row, 'r'),
      alpha: num(row, 'alpha'),
      a: num(row, 'a'),
      b: num(row, 'b'),
      logLikelihood: num(row, 'bg_nbd_log_likelihood'),
      customers: num(row, 'customers'),
      repeatBuyers: num(row, 'repeat_buyers'),
    },
    gammaGamma: {
      p: num(row, 'p'),
      q: num(row, 'q'),
      v: num(row, 'v'),
      logLikelihood: num(row, 'gamma_gamma_log_likelihood'),
    },
  };
}

/** Reads of the CLV tables (`clv_fit`, `clv_customers`) written by `crm-ledger clv fit` and the refit schedule. */
export class ClvQueries {
  private ready: Promise<unknown> | undefined;
  constructor(private readonly readModel: ReadModelStore) {}

  /** Creates the (empty) CLV tables once if no fit ever ran, so reads find them. */
  private ensure(): Promise<unknown> {
    this.ready ??= this.readModel.ensureProjection(clvReadModelSpec).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** The latest fit, or undefined when none was stored yet. */
  async latestFit(): Promise<ClvFit | undefined> {
    await this.ensure();
    const rows = await this.readModel.find('clv_fit', []);
    const latest = [...rows].sort((x, y) => str(x, 'fitted_at').localeCompare(str(y, 'fitted_at'))).at(-1);
    return latest === undefined ? undefined : fitOf(latest);
  }

  /** The latest scheduled refit attempt recorded in the read model, or undefined. */
  lastAttempt() {
    return latestRefitAttempt(this.readModel);
  }

  /** A customer's row of `clv_customers` (column names as in SQL), or undefined. */
  async customerRow(customerId: string): Promise<Row | undefined> {
    await this.ensure();
    return this.readModel.get('clv_customers', { customer_id: customerId });
  }

  /** One metric of every scored customer, distributed by a column of `value_customers` (null: `unknown`). */
  async distribution(by: (typeof GROUPINGS)[number], metric: (typeof METRICS)[number]) {
    await this.ensure();
    const [scores, values] = await Promise.all([
      this.readModel.find('clv_customers', []),
      this.readModel.find('value_customers', []),
    ]);
    const groupOf = new Map(values.map((v) => [str(v, 'customer_id'), v[by]]));
    return distributionBySegment(
      scores.map((s) => {
        const g = groupOf.get(str(s, 'customer_id'));
        return { segment: g === null || g === undefined ? 'unknown' : String(g), value: num(s, metric) };
      }),
    );
  }
}

const NO_FIT = 'no CLV fit yet: run `crm-ledger clv fit` or wait for the scheduled refit';

/**
 * Predictive CLV over HTTP (scope `read`): the latest fit, one customer's P(alive), expected purchases and
 * spend and discounted CLV, and the distribution of a CLV metric by segment, acquisition channel or cohort.
 */
export function registerClvRoutes(app: HttpApp, options: ClvRoutesOptions): void {
  const q = new ClvQueries(options.readModel);
  const auth = requireScope(options.keys, 'read');
  const security = [{ apiKey: [] }];

  app.get(
    '/v1/clv/status',
    {
      onRequest: auth,
      schema: {
        operationId: 'getClvStatus',
        tags: ['clv'],
        summary: 'Whether there is a CLV fit, from when, and whether the latest refit failed (and why)',
        security,
        response: { 200: ClvStatusSchema, ...errors },
      },
    },
    async () => {
      const [fit, attempt] = await Promise.all([q.latestFit(), q.lastAttempt()]);
      const h = options.refitStatus?.get('clv-refit');
      const refused =
        fit === undefined && attempt?.outcome === 'refused'
          ? { state: 'failed' as const, at: attempt.at, error: `${attempt.reason}: ${attempt.detail}` }
          : null;
      const refit =
        h === undefined || h.state === 'running'
          ? refused
          : h.state === 'failed'
            ? { state: 'failed' as const, at: h.at, error: h.error }
            : { state: 'retrying' as const, at: h.since, error: h.lastError };
      return {
        lastAttempt:
          attempt === undefined
            ? null
            : {
                at: attempt.at,
                outcome: attempt.outcome,
                reason: attempt.reason ?? null,
                detail: attempt.detail ?? null,
              },
        state:
          fit !== undefined ? ('fitted' as const) : refit === null ? ('none' as const) : ('failed' as const),
        fit:
          fit === undefined
            ? null
            : {
                fittedAt: fit.fittedAt,
                observationEnd: fit.window.observationEnd,
                currency: fit.currency,
                customers: fit.bgNbd.customers,
              },
        refit,
      };
    },
  );

  app.get(
    '/v1/clv/fit',
    {
      onRequest: auth,
      schema: {
        operationId: 'getClvFit',
        tags: ['clv'],
        summary: 'The latest predictive CLV fit: BG/NBD and Gamma-Gamma parameters, fit date, data window',
        security,
        response: { 200: ClvFitSchema, ...errors },
      },
    },
    async (_req, reply) => {
      const fit = await q.latestFit();
      if (fit === undefined) return sendError(reply, 404, 'not_found', NO_FIT);
      return fit;
    },
  );

  app.get(
    '/v1/customers/:customerId/clv',
    {
      onRequest: auth,
      schema: {
        operationId: 'getCustomerClv',
        tags: ['clv'],
        summary:
          "A customer's P(alive), expected purchases and spend, and discounted CLV, with the fit they come from",
        security,
        params: z.object({ customerId: CustomerId }),
        response: { 200: CustomerClvSchema, ...errors },
      },
    },
    async (req, reply) => {
      const fit = await q.latestFit();
      if (fit === undefined) return sendError(reply, 404, 'not_found', NO_FIT);
      const row = await q.customerRow(req.params.customerId);
      if (row === undefined)
        return sendError(reply, 404, 'not_found', 'no CLV for this customer: no purchase in the fit window');
      return {
        customerId: str(row, 'customer_id'),
        pAlive: num(row, 'p_alive'),
        expectedPurchases: num(row, 'expected_purchases'),
        horizon: num(row, 'horizon'),
        expectedSpend: num(row, 'expected_spend'),
        clv: num(row, 'clv'),
        clvMonths: num(row, 'clv_months'),
        monthlyDiscountRate: num(row, 'monthly_discount_rate'),
        history: {
          frequency: num(row, 'frequency'),
          recency: num(row, 'recency'),
          age: num(row, 'age'),
          meanRepeatSpend: num(row, 'mean_repeat_spend'),
        },
        fit,
      };
    },
  );

  app.get(
    '/v1/aggregates/clv',
    {
      onRequest: auth,
      schema: {
        operationId: 'getClvAggregates',
        tags: ['aggregates', 'clv'],
        summary: 'Distribution of a CLV metric by segment, acquisition channel or cohort month',
        description:
          'Per group: customers, total, mean, p10 / p50 / p90 (nearest rank), max of the metric over the customers ' +
          'scored by the latest fit; the group comes from value_customers (unknown when not set).',
        security,
        querystring: z.object({
          by: z.enum(GROUPINGS).default('segment'),
          metric: z.enum(METRICS).default('clv'),
        }),
        response: {
          200: z.object({
            fittedAt: z.string(),
            currency: z.string(),
            by: z.enum(GROUPINGS),
            metric: z.enum(METRICS),
            rows: z.array(
              z.object({
                segment: z.string(),
                customers: z.number(),
                total: z.number(),
                mean: z.number(),
                p10: z.number(),
                p50: z.number(),
                p90: z.number(),
                max: z.number(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const fit = await q.latestFit();
      if (fit === undefined) return sendError(reply, 404, 'not_found', NO_FIT);
      const { by, metric } = req.query;
      return {
        fittedAt: fit.fittedAt,
        currency: fit.currency,
        by,
        metric,
        rows: await q.distribution(by, metric),
      };
    },
  );
}
