import type { Row } from '@crm-ledger/core';
import { num, round1, sliceSql, type QueryContext, type Slice } from './query-context.js';
import { Converter, monthEnd, type Conversion, type ExchangeRates } from './fx.js';

export interface CohortRetention {
  readonly cohort: string;
  /** ISO 4217 currency of every amount of this cohort row (per currency, or the reporting currency when converted). */
  readonly currency: string;
  readonly customers: number;
  readonly startMrrMinor: number;
  readonly months: readonly {
    offset: number;
    month: string;
    mrrMinor: number;
    nrrPct: number;
    grrPct: number;
  }[];
}

const nextMonth = (m: string): string => {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
};

interface CohortAcc {
  customers: Set<string>;
  start: number;
  net: number[];
  gross: number[];
}

function cohortRows(cohorts: ReadonlyMap<string, CohortAcc>): CohortRetention[] {
  return [...cohorts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, c]) => {
      const [currency, cohort] = key.split('|') as [string, string];
      let month = cohort;
      const months = c.net.map((mrr, offset) => {
        const m = {
          offset,
          month,
          mrrMinor: mrr,
          nrrPct: c.start === 0 ? 0 : round1((mrr / c.start) * 100),
          grrPct: c.start === 0 ? 0 : round1(((c.gross[offset] ?? 0) / c.start) * 100),
        };
        month = nextMonth(month);
        return m;
      });
      return { cohort, currency, customers: c.customers.size, startMrrMinor: c.start, months };
    });
}

/**
 * Net and gross MRR retention by cohort, PER CURRENCY: a customer's cohort in a currency is the month of their
 * first recurring revenue in it; NRR(k) = cohort MRR k months later / cohort MRR at the end of the cohort
 * month (expansion counts); GRR(k) caps each customer at their starting MRR. Months up to `asOf`. With
 * `convert`, also the cohorts of each month in one reporting currency: each month's MRR of each currency
 * converted at the rate recorded for that month's end (`MONTHLY_RULE`); a figure with an amount that has no
 * rate at its date is null, and the conversion names the currency and date.
 */
export async function mrrRetention(
  ctx: QueryContext,
  asOf: string,
  maxMonths: number,
  slice: Pick<Slice, 'segment'> = {},
  convert?: { readonly currency: string; readonly rates: ExchangeRates },
): Promise<{
  cohorts: CohortRetention[];
  converted?: { conversion: Conversion; cohorts: ConvertedCohort[] };
}> {
  const cond = sliceSql(slice, 'value_customers');
  const text = `SELECT customer_id, currency, month, mrr_end_minor FROM value_months
    WHERE mrr_end_minor IS NOT NULL${cond.sql} ORDER BY customer_id, currency, month`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text }, cond.params);
  const end = asOf.slice(0, 7);
  const perCustomer = new Map<string, { month: string; mrr: number }[]>();
  for (const r of rows) {
    const id = `${String(r['customer_id'])}|${String(r['currency'])}`;
    let list = perCustomer.get(id);
    if (list === undefined) perCustomer.set(id, (list = []));
    list.push({ month: String(r['month']), mrr: num(r['mrr_end_minor']) });
  }
  const cohorts = new Map<string, CohortAcc>();
  for (const [id, changes] of perCustomer) {
    const [customer, currency] = id.split('|') as [string, string];
    const first = changes.find((c) => c.mrr > 0);
    if (first === undefined) continue;
    const key = `${currency}|${first.month}`;
    let c = cohorts.get(key);
    if (c === undefined) cohorts.set(key, (c = { customers: new Set(), start: 0, net: [], gross: [] }));
    c.customers.add(customer);
    c.start += first.mrr;
    let current = first.mrr;
    let idx = changes.indexOf(first);
    let month = first.month;
    for (let k = 0; k <= maxMonths && month <= end; k++) {
      while (idx + 1 < changes.length && changes[idx + 1]!.month <= month) current = changes[++idx]!.mrr;
      c.net[k] = (c.net[k] ?? 0) + current;
      c.gross[k] = (c.gross[k] ?? 0) + Math.min(current, first.mrr);
      month = nextMonth(month);
    }
  }
  if (convert === undefined) return { cohorts: cohortRows(cohorts) };
  const day = asOf.slice(0, 10);
  const converter = new Converter(convert.rates, convert.currency, MONTHLY_RULE);
  // the currency cohorts of each cohort month, merged after converting each month's MRR at that month's rate
  const byMonth = new Map<string, { currency: string; c: CohortAcc }[]>();
  for (const [key, c] of cohorts) {
    const [currency, cohort] = key.split('|') as [string, string];
    let list = byMonth.get(cohort);
    if (list === undefined) byMonth.set(cohort, (list = []));
    list.push({ currency, c });
  }
  const converted: ConvertedCohort[] = [...byMonth.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cohort, parts]) => {
      const customers = new Set<string>();
      for (const p of parts) for (const id of p.c.customers) customers.add(id);
      const start = converter.sum(
        parts.map((p) => ({ currency: p.currency, minor: p.c.start })),
        monthEnd(cohort, day),
      );
      const offsets = Math.max(...parts.map((p) => p.c.net.length));
      let month = cohort;
      const months = Array.from({ length: offsets }, (_, offset) => {
        const date = monthEnd(month, day);
        const at = (pick: (c: CohortAcc) => number[]) =>
          converter.sum(
            parts.map((p) => ({ currency: p.currency, minor: pick(p.c)[offset] ?? 0 })),
            date,
          );
        const net = at((c) => c.net);
        const gross = at((c) => c.gross);
        const pct = (x: number | null) =>
          x === null || start === null ? null : start === 0 ? 0 : round1((x / start) * 100);
        const m = { offset, month, mrrMinor: net, nrrPct: pct(net), grrPct: pct(gross) };
        month = nextMonth(month);
        return m;
      });
      return { cohort, currency: convert.currency, customers: customers.size, startMrrMinor: start, months };
    });
  return {
    cohorts: cohortRows(cohorts),
    converted: { conversion: converter.conversion(), cohorts: converted },
  };
}

/** How monthly figures are converted: each at the rate in force at the end of its month. */
export const MONTHLY_RULE =
  "each month's amount at the rate recorded for its pair on or before the month's last day (the as-of day for the current month)";

/** A cohort in a reporting currency: a figure is null when one of its amounts had no rate at its date. */
export interface ConvertedCohort {
  readonly cohort: string;
  readonly currency: string;
  readonly customers: number;
  readonly startMrrMinor: number | null;
  readonly months: readonly {
    offset: number;
    month: string;
    mrrMinor: number | null;
    nrrPct: number | null;
    grrPct: number | null;
  }[];
}

/**
 * Revenue by cohort and month, PER CURRENCY (a customer's cohort in a currency is the month of their first
 * purchase in it): net revenue and its share of month 0. With `convert`, the same per cohort and month in one
 * reporting currency, each month's amounts converted at the rate of that month's end (`MONTHLY_RULE`).
 */
export async function revenueRetention(
  ctx: QueryContext,
  convert?: { readonly currency: string; readonly rates: ExchangeRates; readonly day: string },
): Promise<{ rows: Row[]; converted?: { conversion: Conversion; rows: Row[] } }> {
  const text = `SELECT m.currency AS currency, substr(c.first_purchase_at, 1, 7) AS cohort, m.month AS month,
      COUNT(DISTINCT m.customer_id) AS active_customers,
      SUM(m.gross_minor) AS gross_minor, SUM(m.gross_minor - m.refunds_minor) AS net_minor
    FROM value_months m JOIN value_currencies c ON c.customer_id = m.customer_id AND c.currency = m.currency
    WHERE c.first_purchase_at IS NOT NULL AND m.month >= substr(c.first_purchase_at, 1, 7)
    GROUP BY m.currency, substr(c.first_purchase_at, 1, 7), m.month ORDER BY currency, cohort, month`;
  // The month of an instant: ISO text in SQLite, timestamptz (read in UTC) in PostgreSQL.
  const raw = await ctx.readModel.sql({
    sqlite: text,
    postgres: text.replaceAll(
      'substr(c.first_purchase_at, 1, 7)',
      `to_char(c.first_purchase_at AT TIME ZONE 'UTC', 'YYYY-MM')`,
    ),
  });
  const withPct = (rows: readonly Row[]): Row[] => {
    const base = new Map<string, number>();
    return rows.map((r) => {
      const key = `${String(r['currency'])}|${String(r['cohort'])}`;
      if (!base.has(key)) base.set(key, num(r['net_minor']));
      const b = base.get(key) ?? 0;
      return { ...r, net_retention_pct: b === 0 ? null : round1((num(r['net_minor']) / b) * 100) };
    });
  };
  const rows = withPct(
    raw.map((r) => ({
      ...r,
      active_customers: num(r['active_customers']),
      gross_minor: num(r['gross_minor']),
      net_minor: num(r['net_minor']),
    })),
  );
  if (convert === undefined) return { rows };
  const converter = new Converter(convert.rates, convert.currency, MONTHLY_RULE);
  const merged = new Map<string, { cohort: string; month: string; parts: Row[] }>();
  for (const r of rows) {
    const key = `${String(r['cohort'])}|${String(r['month'])}`;
    let m = merged.get(key);
    if (m === undefined)
      merged.set(key, (m = { cohort: String(r['cohort']), month: String(r['month']), parts: [] }));
    m.parts.push(r);
  }
  const base = new Map<string, number | null>();
  const convertedRows = [...merged.values()]
    .sort((a, b) => (a.cohort < b.cohort ? -1 : a.cohort > b.cohort ? 1 : a.month < b.month ? -1 : 1))
    .map((m) => {
      const date = monthEnd(m.month, convert.day);
      const sum = (col: string) =>
        converter.sum(
          m.parts.map((r) => ({ currency: String(r['currency']), minor: num(r[col]) })),
          date,
        );
      const net = sum('net_minor');
      if (!base.has(m.cohort)) base.set(m.cohort, net);
      const b = base.get(m.cohort) ?? null;
      return {
        currency: convert.currency,
        cohort: m.cohort,
        month: m.month,
        gross_minor: sum('gross_minor'),
        net_minor: net,
        net_retention_pct: net === null || b === null || b === 0 ? null : round1((net / b) * 100),
      };
    });
  return { rows, converted: { conversion: converter.conversion(), rows: convertedRows } };
}
