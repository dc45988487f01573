import { emptyRecord } from '@crm-ledger/events';
import {
  decodeCursor as decodeCells,
  encodeCursor as encodeCells,
  InvalidCursor,
  type CellValue,
  type Row,
  type SqlDialect,
} from '@crm-ledger/core';
import {
  churnRiskOf,
  DEFAULT_HEALTH_WEIGHTS,
  DEFAULT_SILENT_DAYS,
  healthOf,
  recencyScore,
  type ChurnAssessment,
  type Health,
  type HealthWeights,
} from '@crm-ledger/projections';
import type { QueryContext } from './queries.js';

/** What the account list can be sorted by. */
export const ACCOUNT_SORTS = [
  'customer_id',
  'health_score',
  'churn_risk',
  'days_silent',
  'mrr_minor',
  'last_interaction_at',
  'next_renewal_date',
  'adoption_score',
] as const;
export type AccountSort = (typeof ACCOUNT_SORTS)[number];

export interface CustomerListQuery {
  readonly asOf: string;
  readonly segment?: string;
  readonly healthBand?: 'green' | 'yellow' | 'red';
  readonly churnRisk?: 'low' | 'medium' | 'high';
  /** Only customers with no interaction for at least this many days as of asOf (or never). */
  readonly silentDays?: number;
  /** Only customers renewing within this many days of asOf. */
  readonly renewalWithinDays?: number;
  /** Only accounts whose subscription MRR is in this currency (`mrr_currency`): MRR compared like with like. */
  readonly currency?: string;
  readonly sort: AccountSort;
  readonly direction: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string;
}

export interface AccountItem {
  readonly account: Row;
  readonly health: Health;
  readonly churnRisk: ChurnAssessment;
}

export const DAY = 86_400_000;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A text literal of a value this module made (ISO instants, dates): never user text. */
export const lit = (s: string): string => {
  if (!/^[0-9T:.Z-]+$/.test(s)) throw new Error(`not a time literal: ${s}`);
  return `'${s}'`;
};
/** A number literal (weights: validated finite numbers). */
const numLit = (x: number): string => {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  return JSON.stringify(x);
};

/**
 * Per dialect: a double, Math.round of a non-negative double (floor(x + 0.5): the same in both engines), and
 * an instant as its ISO-8601 UTC text with milliseconds (SQLite stores that text; PostgreSQL a timestamptz).
 */
const dialects: Record<
  SqlDialect,
  { real: (e: string) => string; round: (e: string) => string; isoText: (e: string) => string }
> = {
  sqlite: {
    real: (e) => `CAST(${e} AS REAL)`,
    round: (e) => `CAST((${e}) + 0.5 AS INTEGER)`,
    isoText: (e) => e,
  },
  postgres: {
    real: (e) => `CAST(${e} AS DOUBLE PRECISION)`,
    round: (e) => `CAST(FLOOR((${e}) + 0.5) AS BIGINT)`,
    isoText: (e) => `(to_char(${e} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') COLLATE "C")`,
  },
};

/**
 * The recency component in SQL, exactly `recencyScore(max(0, floor(days since last_interaction_at)))`: the
 * day counts are turned into instants (`days >= d` exactly when `last_interaction_at <= asOf - d days`, both
 * ISO-8601 UTC with milliseconds), so no date arithmetic runs in SQL and both engines agree with JavaScript.
 */
function recencySql(asOf: number): string {
  const branches: string[] = [`WHEN last_interaction_at > ${lit(iso(asOf - 8 * DAY))} THEN 100`];
  for (let d = 8; d < 90; d++)
    branches.push(`WHEN last_interaction_at > ${lit(iso(asOf - (d + 1) * DAY))} THEN ${recencyScore(d)}`);
  return `CASE WHEN last_interaction_at IS NULL THEN 0 ${branches.join(' ')} ELSE 0 END`;
}

/**
 * The health score in SQL, the same floating-point operations in the same order as `healthOf` (each
 * contribution rounded to tenths, summed from 0 in component order, rounded), so the engines give the very
 * score JavaScript gives (`account-list.int.spec.ts` compares them for every account at several dates).
 */
function healthSql(dialect: SqlDialect, weights: HealthWeights, recency: string): string {
  const d = dialects[dialect];
  const parts: [number, string][] = [
    [weights.adoption, 'adoption_score'],
    [weights.outcomes, 'outcomes_score'],
    [weights.sentiment, 'sentiment_score'],
    [weights.supportFriction, 'friction_score'],
    [weights.engagementRecency, `(${recency})`],
  ];
  const total = parts.reduce((s, [w]) => s + w, 0);
  if (total === 0) return '0';
  const contributions = parts.map(
    ([w, e]) => `${d.round(`((${d.real(e)} * ${numLit(w)}) / ${numLit(total)}) * 10`)} / 10.0`,
  );
  return d.round(`0.0 + ${contributions.join(' + ')}`);
}

/** Churn points in SQL, as `churnRiskOf` adds them (high >= 50, medium >= 25). */
function churnSql(asOf: number, silentAfterDays: number): string {
  const renewal = `next_renewal_date || 'T00:00:00.000Z'`;
  return `(CASE WHEN subscription_status = 'cancelled' THEN 100 ELSE 0 END
    + CASE WHEN health_score < 40 THEN 40 WHEN health_score < 70 THEN 15 ELSE 0 END
    + CASE WHEN next_renewal_date IS NOT NULL AND ${renewal} >= ${lit(iso(asOf))}
             AND ${renewal} <= ${lit(iso(asOf + 30 * DAY))} AND health_score < 55 THEN 25 ELSE 0 END
    + CASE WHEN contractions > 0 THEN 10 ELSE 0 END
    + CASE WHEN last_interaction_at <= ${lit(iso(asOf - (silentAfterDays + 1) * DAY))} THEN 20 ELSE 0 END)`;
}

/**
 * The sort key of each sort as a non-null SQL expression over the computed row, and the JSON type of its value
 * in a cursor. `days_silent` sorts by the last interaction the other way round (never = most silent).
 */
const KEYS: Record<AccountSort, { expr: string; type: 'string' | 'number'; invert?: true }> = {
  // `{iso}last_interaction_at`: the column as ISO text in each dialect (see `sortKeySql`).
  customer_id: { expr: 'customer_id', type: 'string' },
  health_score: { expr: 'health_score', type: 'number' },
  churn_risk: { expr: 'churn_points', type: 'number' },
  days_silent: { expr: "COALESCE({iso}last_interaction_at, '')", type: 'string', invert: true },
  mrr_minor: { expr: 'mrr_minor', type: 'number' },
  last_interaction_at: { expr: "COALESCE({iso}last_interaction_at, '')", type: 'string' },
  next_renewal_date: { expr: "COALESCE(next_renewal_date, '9999-12-31')", type: 'string' },
  adoption_score: { expr: 'adoption_score', type: 'number' },
};

/** A sort key's SQL in a dialect: `{iso}column` is the column as ISO text (a time sorts as the same text in both). */
const sortKeySql = (dialect: SqlDialect, expr: string): string =>
  expr.replace(/\{iso\}([a-z_]+)/g, (_, column: string) => dialects[dialect].isoText(column));

/**
 * The list's cursor, in the read-model port's cursor format (`encodeCursor` of `@crm-ledger/core`): what it
 * pages through is `accounts:<sort>`, its cells the sort key and the customer id of the page's last account.
 * A cursor of another sort, or whose cells are not of the sort's types, is an `InvalidCursor` (400).
 */
const cursorSort = (sort: AccountSort): string => `accounts:${sort}`;

function encodeCursor(sort: AccountSort, key: CellValue, customerId: string): string {
  const value = KEYS[sort].type === 'number' ? Number(key) : String(key);
  return encodeCells(cursorSort(sort), [value, customerId]);
}

function decodeCursor(cursor: string, sort: AccountSort): { key: string | number; customerId: string } {
  const [key, customerId] = decodeCells(cursor, cursorSort(sort), 2);
  if (typeof key !== KEYS[sort].type || (typeof key === 'string' && key.length > 64))
    throw new InvalidCursor('the sort value is not of the sort');
  if (typeof customerId !== 'string' || customerId.length > 64) throw new InvalidCursor('not a customer id');
  return { key: key as string | number, customerId };
}

const BANDS = {
  green: 'health_score >= 70',
  yellow: 'health_score >= 40 AND health_score < 70',
  red: 'health_score < 40',
};
const RISKS = {
  high: 'churn_points >= 50',
  medium: 'churn_points >= 25 AND churn_points < 50',
  low: 'churn_points < 25',
};

/**
 * `WITH h AS (...), c AS (...)`: the accounts matching `where` (over `success_accounts`), each with its
 * health_score (h) and churn_points (c) as of `asOf` (ms): the list and the account summary read `c`.
 */
export function scoredAccountsSql(
  dialect: SqlDialect,
  asOf: number,
  where: readonly string[],
  weights: HealthWeights,
  silentAfterDays: number,
): string {
  return `WITH h AS (
      SELECT a.*, ${healthSql(dialect, weights, recencySql(asOf))} AS health_score
      FROM success_accounts a${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}
    ), c AS (
      SELECT h.*, ${churnSql(asOf, silentAfterDays)} AS churn_points FROM h
    )`;
}

/** The SQL of a page of the list, per dialect, and its parameters. */
export function accountListSql(
  dialect: SqlDialect,
  q: CustomerListQuery,
  weights: HealthWeights,
  silentAfterDays: number,
): { text: string; params: CellValue[] } {
  const asOf = Date.parse(q.asOf);
  const params: CellValue[] = [];
  const where: string[] = [];
  if (q.segment !== undefined) {
    where.push('segment = ?');
    params.push(q.segment);
  }
  if (q.currency !== undefined) {
    where.push('mrr_currency = ?');
    params.push(q.currency);
  }
  if (q.silentDays !== undefined)
    where.push(
      `(last_interaction_at IS NULL OR last_interaction_at <= ${lit(iso(asOf - q.silentDays * DAY))})`,
    );
  if (q.renewalWithinDays !== undefined)
    where.push(
      `next_renewal_date >= ${lit(q.asOf.slice(0, 10))} AND next_renewal_date <= ${lit(iso(asOf + q.renewalWithinDays * DAY).slice(0, 10))}`,
    );
  const outer: string[] = [];
  if (q.healthBand !== undefined) outer.push(BANDS[q.healthBand]);
  if (q.churnRisk !== undefined) outer.push(RISKS[q.churnRisk]);
  const key = KEYS[q.sort];
  const ascending = (q.direction === 'asc') !== (key.invert === true);
  const dir = ascending ? 'ASC' : 'DESC';
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor, q.sort);
    outer.push(
      `(sort_key ${ascending ? '>' : '<'} ? OR (sort_key = ? AND customer_id ${ascending ? '>' : '<'} ?))`,
    );
    params.push(c.key, c.key, c.customerId);
  }
  const text = `${scoredAccountsSql(dialect, asOf, where, weights, silentAfterDays)}, k AS (
      SELECT c.*, ${sortKeySql(dialect, key.expr)} AS sort_key FROM c
    )
    SELECT * FROM k${outer.length === 0 ? '' : ` WHERE ${outer.join(' AND ')}`}
    ORDER BY sort_key ${dir}, customer_id ${dir} LIMIT ${q.limit + 1}`;
  return { text, params };
}

/** Columns the list SQL adds to a `success_accounts` row. */
const COMPUTED = new Set(['health_score', 'churn_points', 'sort_key']);

/**
 * Accounts with their health and churn risk as of `asOf`. Every filter (segment, silence, renewal window,
 * health band, churn risk) and the sort (also by health score, churn risk, days silent) run in the store's
 * SQL, so `limit` counts matching accounts and the cursor (sort key and customer id) is stable. The health
 * and churn answers (components, reasons) are then computed for the page with `healthOf` / `churnRiskOf`,
 * which give the same score and risk as the SQL.
 */
export async function listCustomers(
  ctx: QueryContext,
  q: CustomerListQuery,
): Promise<{ items: AccountItem[]; nextCursor?: string; silentAfterDays: number }> {
  const weights = ctx.weights ?? DEFAULT_HEALTH_WEIGHTS;
  const silentAfterDays = ctx.silentAfterDays ?? DEFAULT_SILENT_DAYS;
  const sqlite = accountListSql('sqlite', q, weights, silentAfterDays);
  const postgres = accountListSql('postgres', q, weights, silentAfterDays);
  const rows = await ctx.readModel.sql({ sqlite: sqlite.text, postgres: postgres.text }, sqlite.params);
  const page = rows.slice(0, q.limit);
  const items = page.map((r) => {
    const account: Record<string, CellValue> = emptyRecord();
    for (const [k, v] of Object.entries(r)) if (!COMPUTED.has(k)) account[k] = v;
    const health = healthOf(account, q.asOf, weights);
    return { account, health, churnRisk: churnRiskOf(account, q.asOf, health, silentAfterDays) };
  });
  const last = page[page.length - 1];
  return rows.length > q.limit && last !== undefined
    ? {
        items,
        silentAfterDays,
        nextCursor: encodeCursor(q.sort, last['sort_key'] ?? '', String(last['customer_id'])),
      }
    : { items, silentAfterDays };
}
