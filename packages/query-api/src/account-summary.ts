import type { CellValue } from '@crm-ledger/core';
import { DEFAULT_HEALTH_WEIGHTS, DEFAULT_SILENT_DAYS } from '@crm-ledger/projections';
import { DAY, iso, lit, scoredAccountsSql } from './account-list.js';
import type { QueryContext } from './queries.js';
import { Converter, type Conversion, type ExchangeRates } from './fx.js';

export interface AccountSummaryQuery {
  readonly asOf: string;
  readonly segment?: string;
  /** The renewal window counted in `renewals` (days from asOf, as the list's renewalWithinDays). */
  readonly renewalWithinDays: number;
  /** A reporting currency: the renewals' MRR also converted, at the rates in force on the as-of day. */
  readonly convert?: { readonly currency: string; readonly rates: ExchangeRates };
}

export interface AccountSummary {
  readonly asOf: string;
  readonly silentAfterDays: number;
  readonly renewalWithinDays: number;
  readonly customers: number;
  readonly bands: { readonly green: number; readonly yellow: number; readonly red: number };
  readonly churnRisk: { readonly low: number; readonly medium: number; readonly high: number };
  /** Customers per 10-point health bin (0–9, 10–19, ..., 90–100) and band. */
  readonly healthBins: readonly {
    readonly from: number;
    readonly green: number;
    readonly yellow: number;
    readonly red: number;
  }[];
  /** No interaction for at least silentAfterDays (or never): the list's `silentDays=<silentAfterDays>`. */
  readonly silent: number;
  /** Renewing within renewalWithinDays, and their MRR per currency (minor units; null: no currency). */
  readonly renewals: {
    readonly customers: number;
    readonly mrr: readonly { readonly currency: string | null; readonly minor: number }[];
    /** With a reporting currency: the sum converted (null when a currency has no rate on the as-of day). */
    readonly converted?: { readonly minor: number | null; readonly conversion: Conversion };
  };
}

/** How the renewals' MRR is converted: the MRR of the as-of day at that day's rates. */
export const RENEWALS_RULE =
  "each currency's MRR on the as-of day at the rate recorded for its pair on or before that day";

type Band = 'green' | 'yellow' | 'red';
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
type Risk = 'low' | 'medium' | 'high';

/**
 * The counts behind the dashboard's KPIs and health histogram, in the store's SQL with the very health
 * score, churn points, silence and renewal filters of the account list (`accountListSql`): what paging
 * through `GET /v1/customers` with those filters would count, without sending every account.
 */
export async function accountSummary(ctx: QueryContext, q: AccountSummaryQuery): Promise<AccountSummary> {
  const weights = ctx.weights ?? DEFAULT_HEALTH_WEIGHTS;
  const silentAfterDays = ctx.silentAfterDays ?? DEFAULT_SILENT_DAYS;
  const asOf = Date.parse(q.asOf);
  const where: string[] = [];
  const params: CellValue[] = [];
  if (q.segment !== undefined) {
    where.push('segment = ?');
    params.push(q.segment);
  }
  const silent = `last_interaction_at IS NULL OR last_interaction_at <= ${lit(iso(asOf - silentAfterDays * DAY))}`;
  // The window's end stays within four-digit years (asOf may be 9999-12-31).
  const end = Math.min(asOf + q.renewalWithinDays * DAY, LAST_INSTANT);
  const renewing = `next_renewal_date >= ${lit(q.asOf.slice(0, 10))} AND next_renewal_date <= ${lit(iso(end).slice(0, 10))}`;
  const text = (
    dialect: 'sqlite' | 'postgres',
  ) => `${scoredAccountsSql(dialect, asOf, where, weights, silentAfterDays)}
    SELECT band, bin, risk, silent, renewing, renewal_currency, COUNT(*) AS n, SUM(renewal_mrr) AS renewal_mrr
    FROM (
      SELECT
        CASE WHEN health_score >= 70 THEN 'green' WHEN health_score >= 40 THEN 'yellow' ELSE 'red' END AS band,
        CASE WHEN health_score >= 90 THEN 9 WHEN health_score < 0 THEN 0 ELSE health_score / 10 END AS bin,
        CASE WHEN churn_points >= 50 THEN 'high' WHEN churn_points >= 25 THEN 'medium' ELSE 'low' END AS risk,
        CASE WHEN ${silent} THEN 1 ELSE 0 END AS silent,
        CASE WHEN ${renewing} THEN 1 ELSE 0 END AS renewing,
        CASE WHEN ${renewing} THEN mrr_currency ELSE NULL END AS renewal_currency,
        CASE WHEN ${renewing} THEN COALESCE(mrr_minor, 0) ELSE 0 END AS renewal_mrr
      FROM c
    ) s
    GROUP BY band, bin, risk, silent, renewing, renewal_currency`;
  const rows = await ctx.readModel.sql({ sqlite: text('sqlite'), postgres: text('postgres') }, params);
  const bands = { green: 0, yellow: 0, red: 0 };
  const churnRisk = { low: 0, medium: 0, high: 0 };
  const bins = Array.from({ length: 10 }, (_, b) => ({ from: b * 10, green: 0, yellow: 0, red: 0 }));
  const mrr = new Map<string | null, number>();
  let customers = 0;
  let silentCount = 0;
  let renewals = 0;
  for (const r of rows) {
    const n = Number(r['n']);
    const band = String(r['band']) as Band;
    customers += n;
    bands[band] += n;
    churnRisk[String(r['risk']) as Risk] += n;
    bins[Number(r['bin'])]![band] += n;
    if (Number(r['silent']) === 1) silentCount += n;
    if (Number(r['renewing']) === 1) {
      renewals += n;
      const c = r['renewal_currency'] === null ? null : String(r['renewal_currency']);
      const minor = Number(r['renewal_mrr'] ?? 0);
      if (minor !== 0) mrr.set(c, (mrr.get(c) ?? 0) + minor);
    }
  }
  const byCurrency = [...mrr.entries()]
    .map(([currency, minor]) => ({ currency, minor }))
    .sort((a, b) => String(a.currency).localeCompare(String(b.currency)));
  let converted: { minor: number | null; conversion: Conversion } | undefined;
  if (q.convert !== undefined) {
    const converter = new Converter(q.convert.rates, q.convert.currency, RENEWALS_RULE);
    // an MRR without a currency (a subscription recorded without one) cannot be converted: the figure is null
    const known = byCurrency.filter((m): m is { currency: string; minor: number } => m.currency !== null);
    const minor = converter.sum(known, q.asOf.slice(0, 10));
    converted = {
      minor: known.length === byCurrency.length ? minor : null,
      conversion: converter.conversion(),
    };
  }
  return {
    asOf: q.asOf,
    silentAfterDays,
    renewalWithinDays: q.renewalWithinDays,
    customers,
    bands,
    churnRisk,
    healthBins: bins,
    silent: silentCount,
    renewals: {
      customers: renewals,
      mrr: byCurrency,
      ...(converted === undefined ? {} : { converted }),
    },
  };
}
