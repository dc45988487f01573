import * as E from 'fp-ts/lib/Either.js';
import type { RfmValueSummary } from '@crm-ledger/clv';
import type { GlobalPosition, ProjectionSpec, ReadModelStore, Row, RowChange } from '@crm-ledger/core';
import type { ClvFitRecord } from './fit.js';
import { scoreCustomer, type ScoreOptions } from './score.js';

const col = (name: string, type: 'text' | 'integer' | 'real', description: string, nullable = false) => ({
  name,
  type,
  description,
  nullable,
});

/**
 * The CLV tables of the read model (plain SQL for analysts). Written whole by each fit (a rebuild swapped in
 * atomically): queries see the previous fit's scores or the new ones, never a mix.
 */
export const clvReadModelSpec: ProjectionSpec = {
  name: 'clv',
  version: 1,
  tables: [
    {
      name: 'clv_fit',
      description: 'The latest predictive CLV fit: BG/NBD and Gamma-Gamma parameters, fit date, data window.',
      columns: [
        col('fitted_at', 'text', 'When the fit ran'),
        col('first_purchase_day', 'text', 'Earliest purchase day in the data window'),
        col('observation_end', 'text', 'Last observed day of the window (inclusive)'),
        col('days_per_unit', 'integer', 'Days per model time unit (7: weeks)'),
        col('currency', 'text', 'Currency of the spend model'),
        col('r', 'real', 'BG/NBD: shape of the purchase-rate Gamma'),
        col('alpha', 'real', 'BG/NBD: rate of the purchase-rate Gamma (time units)'),
        col('a', 'real', 'BG/NBD: Beta dropout parameter a'),
        col('b', 'real', 'BG/NBD: Beta dropout parameter b'),
        col('bg_nbd_log_likelihood', 'real', 'BG/NBD log-likelihood at the optimum'),
        col('customers', 'integer', 'Customers with a purchase in the window'),
        col('repeat_buyers', 'integer', 'Customers with at least one repeat purchase'),
        col('p', 'real', 'Gamma-Gamma: shape of a transaction value'),
        col('q', 'real', "Gamma-Gamma: shape of the customers' scale"),
        col('v', 'real', "Gamma-Gamma: rate of the customers' scale (currency major units)"),
        col('gamma_gamma_log_likelihood', 'real', 'Gamma-Gamma log-likelihood at the optimum'),
        col('record', 'text', 'The whole fit record (JSON)'),
      ],
      primaryKey: ['fitted_at'],
    },
    {
      name: 'clv_customers',
      description:
        'Per customer, from the latest fit: history summary, P(alive), expected purchases and spend, CLV.',
      columns: [
        col('customer_id', 'text', 'The customer'),
        col('fitted_at', 'text', 'The fit the scores come from'),
        col('frequency', 'integer', 'Repeat purchase days in the window'),
        col('recency', 'real', 'Time units from the first to the last purchase'),
        col('age', 'real', 'T: time units from the first purchase to the window end'),
        col('mean_repeat_spend', 'real', 'Mean value of the repeat purchase days (major units)'),
        col('p_alive', 'real', 'Probability the customer is still active'),
        col('expected_purchases', 'real', 'Expected purchases over the horizon'),
        col('horizon', 'real', 'Horizon of expected_purchases, in time units'),
        col('expected_spend', 'real', 'Expected value of a future purchase (major units)'),
        col('clv', 'real', 'Discounted expected revenue over clv_months (major units)'),
        col('clv_months', 'integer', 'Horizon of clv, months'),
        col('monthly_discount_rate', 'real', 'Discount rate of clv, per month'),
      ],
      primaryKey: ['customer_id'],
      indexes: [{ name: 'clv_customers_clv', columns: ['clv'] }],
    },
  ],
};

/** Row changes of a fit: its `clv_fit` row and one scored `clv_customers` row per summary. */
export function clvRowChanges(
  record: ClvFitRecord,
  summaries: ReadonlyMap<string, RfmValueSummary>,
  options: ScoreOptions = {},
): { changes: RowChange[]; unscored: number } {
  const { bgNbd, gammaGamma } = record;
  const fitRow: Row = {
    fitted_at: record.fittedAt,
    first_purchase_day: record.window.firstPurchaseDay,
    observation_end: record.window.observationEnd,
    days_per_unit: record.window.daysPerUnit,
    currency: record.currency,
    r: bgNbd.params.r,
    alpha: bgNbd.params.alpha,
    a: bgNbd.params.a,
    b: bgNbd.params.b,
    bg_nbd_log_likelihood: bgNbd.logLikelihood,
    customers: bgNbd.customers,
    repeat_buyers: bgNbd.repeatBuyers,
    p: gammaGamma.params.p,
    q: gammaGamma.params.q,
    v: gammaGamma.params.v,
    gamma_gamma_log_likelihood: gammaGamma.logLikelihood,
    record: JSON.stringify(record),
  };
  const changes: RowChange[] = [{ op: 'upsert', table: 'clv_fit', row: fitRow }];
  const horizon = options.horizon ?? 52;
  const months = options.months ?? 12;
  const rate = options.monthlyDiscountRate ?? 0.01;
  let unscored = 0;
  for (const [customerId, s] of summaries) {
    const score = scoreCustomer(record, s, { horizon, months, monthlyDiscountRate: rate });
    // A score fails only on a horizon too long for the series: the customer stays out, counted.
    if (E.isLeft(score)) {
      unscored++;
      continue;
    }
    changes.push({
      op: 'upsert',
      table: 'clv_customers',
      row: {
        customer_id: customerId,
        fitted_at: record.fittedAt,
        frequency: s.frequency,
        recency: s.recency,
        age: s.T,
        mean_repeat_spend: s.monetaryValue,
        p_alive: score.right.probabilityAlive,
        expected_purchases: score.right.expectedPurchases,
        horizon,
        expected_spend: score.right.expectedSpend,
        clv: score.right.clv,
        clv_months: months,
        monthly_discount_rate: rate,
      },
    });
  }
  return { changes, unscored };
}

/**
 * Replaces the CLV tables of the read model by this fit's rows, atomically (a rebuild of the `clv` tables
 * swapped in). `position` is the head of the event log the fit read, kept as the tables' checkpoint.
 */
export async function writeClvToReadModel(
  readModel: ReadModelStore,
  record: ClvFitRecord,
  summaries: ReadonlyMap<string, RfmValueSummary>,
  position: GlobalPosition,
  options: ScoreOptions = {},
): Promise<{ customers: number; unscored: number }> {
  const { changes, unscored } = clvRowChanges(record, summaries, options);
  await readModel.ensureProjection(clvReadModelSpec);
  await readModel.beginRebuild(clvReadModelSpec);
  try {
    await readModel.apply([
      { projection: clvReadModelSpec.name, target: 'shadow', changes, checkpoint: Math.max(1, position) },
    ]);
    await readModel.completeRebuild(clvReadModelSpec.name);
  } catch (err) {
    await readModel.abortRebuild(clvReadModelSpec.name);
    throw err;
  }
  return { customers: changes.length - 1, unscored };
}
