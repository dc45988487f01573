import type { CellValue, EventStore, Filter, ReadModelStore, Row, Sort, StoredEvent } from '@crm-ledger/core';
import { customerStream, definitionOf } from '@crm-ledger/events';
import {
  churnRiskOf,
  DEFAULT_HEALTH_WEIGHTS,
  healthOf,
  type ChurnAssessment,
  type Health,
  type HealthWeights,
} from '@crm-ledger/projections';
import { customerViewsAsOf } from '@crm-ledger/projector';
import * as E from 'fp-ts/lib/Either.js';

export interface QueryContext {
  readonly readModel: ReadModelStore;
  readonly store: EventStore;
  readonly weights?: HealthWeights;
}

/** One entry of a customer's timeline: what happened, when, on which channel; personal data left out. */
export interface TimelineEntry {
  readonly position: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The timeline of events without personal data fields (the catalogue names them per type). */
export function timelineOf(events: readonly StoredEvent[], limit: number): TimelineEntry[] {
  const sorted = [...events].sort((a, b) =>
    a.event.occurredAt < b.event.occurredAt ? 1 : a.event.occurredAt > b.event.occurredAt ? -1 : 0,
  );
  return sorted.slice(0, limit).map((s) => {
    const pii = new Set(definitionOf(s.event.type)?.pii ?? []);
    const data: Record<string, unknown> = {};
    if (s.event.data !== null && typeof s.event.data === 'object')
      for (const [k, v] of Object.entries(s.event.data)) if (!pii.has(k)) data[k] = v;
    return {
      position: s.globalPosition,
      occurredAt: s.event.occurredAt,
      recordedAt: s.recordedAt,
      type: s.event.type,
      data,
    };
  });
}

export interface Customer360 {
  readonly customerId: string;
  readonly asOf: string;
  /** `live`: read from the live tables; `folded`: computed from the stream for a past point. */
  readonly source: 'live' | 'folded';
  readonly service: { readonly customer: Row | null; readonly tickets: readonly Row[] };
  readonly success: {
    readonly account: Row | null;
    /** Each with `overdue`: 1 when not achieved and the target date is before asOf. */
    readonly criteria: readonly Row[];
    readonly health: Health | null;
    readonly churnRisk: ChurnAssessment | null;
    readonly daysSilent: number | null;
  };
  readonly experience: {
    readonly customer: Row | null;
    readonly channels: readonly Row[];
    readonly touchpoints: readonly Row[];
    readonly surveys: readonly Row[];
    readonly months: readonly Row[];
    readonly ticketFeedback: readonly Row[];
  };
  readonly value: {
    readonly customer: Row | null;
    readonly months: readonly Row[];
    readonly tenureDays: number | null;
  };
  readonly timeline: readonly TimelineEntry[];
}

const days = (from: string, to: string): number =>
  Math.floor((Date.parse(to) - Date.parse(from)) / 86_400_000);

async function liveRows(ctx: QueryContext, table: string, customerId: string): Promise<readonly Row[]> {
  return ctx.readModel.find(table, [{ column: 'customer_id', op: 'eq', value: customerId }]);
}

/**
 * The customer 360: all four views and the timeline. Without `asOfPosition` or a past `occurredBefore`, the
 * rows come from the live tables; otherwise the customer's stream is folded up to that point (time travel).
 * Time-dependent values (health recency, silence, overdue criteria, tenure) are computed for `asOf`.
 * Left when the customer has no events (404).
 */
export async function customer360(
  ctx: QueryContext,
  customerId: string,
  asOf: string,
  options: { readonly timeTravel: boolean; readonly asOfPosition?: number; readonly timelineLimit: number },
): Promise<E.Either<'not_found', Customer360>> {
  let tables: Record<string, readonly Row[]>;
  let events: readonly StoredEvent[];
  if (options.timeTravel) {
    const folded = await customerViewsAsOf(ctx.store, customerId, {
      occurredBefore: asOf,
      ...(options.asOfPosition === undefined ? {} : { position: options.asOfPosition }),
    });
    if (E.isLeft(folded)) throw new Error(folded.left);
    events = folded.right.events;
    if (events.length === 0) return E.left('not_found');
    tables = Object.assign({}, ...Object.values(folded.right.views)) as Record<string, readonly Row[]>;
  } else {
    const names = [
      'service_customers',
      'service_tickets',
      'success_accounts',
      'success_criteria',
      'experience_customers',
      'experience_channels',
      'experience_touchpoints',
      'experience_surveys',
      'experience_months',
      'experience_ticket_feedback',
      'value_customers',
      'value_months',
    ];
    const found = await Promise.all(names.map((n) => liveRows(ctx, n, customerId)));
    tables = Object.fromEntries(names.map((n, i) => [n, found[i] ?? []]));
    const read = await ctx.store.readStream(customerStream(customerId));
    if (E.isLeft(read)) throw new Error(read.left.message);
    events = read.right;
    if (events.length === 0 && (tables['value_customers'] ?? []).length === 0) return E.left('not_found');
  }
  const one = (t: string): Row | null => tables[t]?.[0] ?? null;
  const many = (t: string): readonly Row[] => tables[t] ?? [];
  const account = one('success_accounts');
  const health = account === null ? null : healthOf(account, asOf, ctx.weights ?? DEFAULT_HEALTH_WEIGHTS);
  const valueCustomer = one('value_customers');
  const since = valueCustomer?.['first_seen_at'];
  const lastInteraction = account?.['last_interaction_at'];
  const asOfDay = asOf.slice(0, 10);
  return E.right({
    customerId,
    asOf,
    source: options.timeTravel ? 'folded' : 'live',
    service: { customer: one('service_customers'), tickets: many('service_tickets') },
    success: {
      account,
      criteria: many('success_criteria').map((c) => ({
        ...c,
        overdue: c['achieved_at'] === null && String(c['target_date']) < asOfDay ? 1 : 0,
      })),
      health,
      churnRisk: account === null || health === null ? null : churnRiskOf(account, asOf, health),
      daysSilent: typeof lastInteraction === 'string' ? Math.max(0, days(lastInteraction, asOf)) : null,
    },
    experience: {
      customer: one('experience_customers'),
      channels: many('experience_channels'),
      touchpoints: many('experience_touchpoints'),
      surveys: many('experience_surveys'),
      months: many('experience_months'),
      ticketFeedback: many('experience_ticket_feedback'),
    },
    value: {
      customer: valueCustomer,
      months: many('value_months'),
      tenureDays: typeof since === 'string' ? Math.max(0, days(since, asOf)) : null,
    },
    timeline: timelineOf(events, options.timelineLimit),
  });
}

export interface CustomerListQuery {
  readonly asOf: string;
  readonly segment?: string;
  readonly healthBand?: 'green' | 'yellow' | 'red';
  readonly churnRisk?: 'low' | 'medium' | 'high';
  /** Only customers with no interaction for at least this many days (or never). */
  readonly silentDays?: number;
  /** Only customers with an active subscription renewing within this many days of asOf. */
  readonly renewalWithinDays?: number;
  readonly sort: 'customer_id' | 'last_interaction_at' | 'next_renewal_date' | 'mrr_minor' | 'adoption_score';
  readonly direction: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string;
}

const addDays = (iso: string, n: number): string => new Date(Date.parse(iso) + n * 86_400_000).toISOString();

/**
 * Accounts with their health and churn risk as of `asOf`. Stored-column filters (segment, silence, renewal)
 * run in SQL with keyset pagination; health band and churn risk depend on asOf and the weights, so they
 * filter each page after it is read: a page may hold fewer than `limit` rows, follow `nextCursor`.
 */
export async function listCustomers(
  ctx: QueryContext,
  q: CustomerListQuery,
): Promise<{ items: { account: Row; health: Health; churnRisk: ChurnAssessment }[]; nextCursor?: string }> {
  const where: Filter[] = [];
  if (q.segment !== undefined) where.push({ column: 'segment', op: 'eq', value: q.segment });
  if (q.silentDays !== undefined)
    where.push({ column: 'last_interaction_at', op: 'lte', value: addDays(q.asOf, -q.silentDays) });
  if (q.renewalWithinDays !== undefined) {
    where.push({ column: 'next_renewal_date', op: 'gte', value: q.asOf.slice(0, 10) });
    where.push({
      column: 'next_renewal_date',
      op: 'lte',
      value: addDays(q.asOf, q.renewalWithinDays).slice(0, 10),
    });
  }
  const orderBy: Sort[] = [{ column: q.sort, direction: q.direction }];
  const page = await ctx.readModel.list('success_accounts', {
    where,
    orderBy,
    limit: q.limit,
    ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
  });
  const items = page.rows
    .map((account) => {
      const health = healthOf(account, q.asOf, ctx.weights ?? DEFAULT_HEALTH_WEIGHTS);
      return { account, health, churnRisk: churnRiskOf(account, q.asOf, health) };
    })
    .filter(
      (i) =>
        (q.healthBand === undefined || i.health.band === q.healthBand) &&
        (q.churnRisk === undefined || i.churnRisk.risk === q.churnRisk),
    );
  return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
}

export interface Window {
  /** Inclusive lower bound (ISO date or time). */
  readonly from: string;
  /** Exclusive upper bound. */
  readonly to: string;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const num = (v: CellValue | undefined): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** Who an aggregate counts: customers of one segment, interactions on one channel (both optional). */
export interface Slice {
  readonly segment?: string;
  readonly channel?: string;
}

/**
 * SQL conditions (each starting with AND) and their parameters for a slice: the segment through the view's own
 * customers table (`customersTable`), the channel through `channelColumn` of the aggregated table.
 */
function sliceSql(
  slice: Slice,
  customersTable: string,
  channelColumn?: string,
): { sql: string; params: CellValue[] } {
  let sql = '';
  const params: CellValue[] = [];
  if (slice.segment !== undefined) {
    sql += ` AND customer_id IN (SELECT customer_id FROM ${customersTable} WHERE segment = ?)`;
    params.push(slice.segment);
  }
  if (slice.channel !== undefined && channelColumn !== undefined) {
    sql += ` AND ${channelColumn} = ?`;
    params.push(slice.channel);
  }
  return { sql, params };
}

export type ExperienceMetric = 'NPS' | 'CSAT' | 'CES';

export interface ExperienceTrendRow {
  readonly metric: ExperienceMetric;
  readonly period: string;
  /** Absent in totals. */
  readonly channel?: string;
  readonly responses: number;
  readonly value: number | null;
  readonly mean_score: number | null;
  readonly satisfied_pct: number | null;
  readonly promoters: number;
  readonly detractors: number;
}

const quarterOf = (month: string): string =>
  `${month.slice(0, 4)}-Q${Math.ceil(Number(month.slice(5, 7)) / 3)}`;

/**
 * NPS, CSAT and CES over time by channel, from the survey cells (`experience_surveys`), per month or quarter
 * of the answer: per metric, period and channel the answers and the metric's headline value
 * (`value`: NPS = % promoters (9-10) - % detractors (0-6); CSAT = % satisfied (4-5 of 1-5); CES = mean score
 * (1-7, higher = easier)), plus `mean_score` and `satisfied_pct` for every metric; `totals` is the same per
 * metric and period over the channels in the slice.
 */
export async function experienceTrend(
  ctx: QueryContext,
  w: Window,
  q: Slice & { readonly metric?: ExperienceMetric; readonly by: 'month' | 'quarter' },
): Promise<{ rows: ExperienceTrendRow[]; totals: ExperienceTrendRow[] }> {
  const slice = sliceSql(q, 'experience_customers', 'channel');
  const kind = q.metric === undefined ? '' : ' AND kind = ?';
  const text = `SELECT kind, month, channel, SUM(responses) AS responses, SUM(score_sum) AS score_sum,
      SUM(promoters) AS promoters, SUM(detractors) AS detractors, SUM(satisfied) AS satisfied
    FROM experience_surveys WHERE month >= ? AND month < ?${kind}${slice.sql}
    GROUP BY kind, month, channel ORDER BY kind, month, channel`;
  const cells = await ctx.readModel.sql({ sqlite: text, postgres: text }, [
    w.from.slice(0, 7),
    w.to.slice(0, 7),
    ...(q.metric === undefined ? [] : [q.metric]),
    ...slice.params,
  ]);
  type Acc = {
    responses: number;
    scoreSum: number;
    promoters: number;
    detractors: number;
    satisfied: number;
  };
  const sum = (map: Map<string, Acc>, key: string, r: Row): void => {
    let a = map.get(key);
    if (a === undefined)
      map.set(key, (a = { responses: 0, scoreSum: 0, promoters: 0, detractors: 0, satisfied: 0 }));
    a.responses += num(r['responses']);
    a.scoreSum += num(r['score_sum']);
    a.promoters += num(r['promoters']);
    a.detractors += num(r['detractors']);
    a.satisfied += num(r['satisfied']);
  };
  const byChannel = new Map<string, Acc>();
  const total = new Map<string, Acc>();
  for (const r of cells) {
    const period = q.by === 'quarter' ? quarterOf(String(r['month'])) : String(r['month']);
    sum(byChannel, `${String(r['kind'])}\u0000${period}\u0000${String(r['channel'])}`, r);
    sum(total, `${String(r['kind'])}\u0000${period}`, r);
  }
  const row = (key: string, a: Acc): ExperienceTrendRow => {
    const [metric, period, channel] = key.split('\u0000') as [ExperienceMetric, string, string?];
    const n = a.responses;
    const pct = (x: number): number | null => (n === 0 ? null : round1((x / n) * 100));
    const mean = n === 0 ? null : Math.round((a.scoreSum / n) * 100) / 100;
    const value =
      n === 0
        ? null
        : metric === 'NPS'
          ? round1(((a.promoters - a.detractors) / n) * 100)
          : metric === 'CSAT'
            ? pct(a.satisfied)
            : mean;
    return {
      metric,
      period,
      ...(channel === undefined ? {} : { channel }),
      responses: n,
      value,
      mean_score: mean,
      satisfied_pct: pct(a.satisfied),
      promoters: a.promoters,
      detractors: a.detractors,
    };
  };
  const sorted = (m: Map<string, Acc>): ExperienceTrendRow[] =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, a]) => row(k, a));
  return { rows: sorted(byChannel), totals: sorted(total) };
}

/** NPS by month and channel (and the total per month), from the survey cells. */
export async function npsByMonthAndChannel(ctx: QueryContext, w: Window): Promise<Row[]> {
  const text = `SELECT month, channel, SUM(responses) AS responses, SUM(promoters) AS promoters, SUM(detractors) AS detractors
     FROM experience_surveys WHERE kind = 'NPS' AND month >= ? AND month < ?
     GROUP BY month, channel ORDER BY month, channel`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text }, [
    w.from.slice(0, 7),
    w.to.slice(0, 7),
  ]);
  return rows.map((r) => ({
    month: r['month'] ?? null,
    channel: r['channel'] ?? null,
    responses: num(r['responses']),
    promoters: num(r['promoters']),
    detractors: num(r['detractors']),
    nps:
      num(r['responses']) === 0
        ? null
        : round1(((num(r['promoters']) - num(r['detractors'])) / num(r['responses'])) * 100),
  }));
}

/** Nearest-rank percentiles of a ticket duration per group, in SQL that both dialects run (window functions). */
function percentileSql(column: string, group: string, where: string): string {
  return `WITH v AS (
      SELECT ${group} AS g, ${column} AS x,
             ROW_NUMBER() OVER (PARTITION BY ${group} ORDER BY ${column}) AS rn,
             COUNT(*) OVER (PARTITION BY ${group}) AS n
      FROM service_tickets WHERE ${column} IS NOT NULL AND opened_at >= ? AND opened_at < ?${where})
    SELECT g, n, MIN(CASE WHEN rn >= 0.5 * n THEN x END) AS p50, MIN(CASE WHEN rn >= 0.9 * n THEN x END) AS p90,
           MIN(CASE WHEN rn >= 0.99 * n THEN x END) AS p99
    FROM v GROUP BY g, n ORDER BY g`;
}

/** Minutes from opening to an SLA due time, per dialect (times are ISO-8601 text). */
const dueMinutes = {
  sqlite: (due: string) => `CAST(ROUND((julianday(${due}) - julianday(opened_at)) * 1440) AS INTEGER)`,
  postgres: (due: string) =>
    `CAST(ROUND(EXTRACT(EPOCH FROM (CAST(${due} AS timestamptz) - CAST(opened_at AS timestamptz))) / 60) AS INTEGER)`,
};

/**
 * Service performance per priority or channel in a window of opening times: first-reply and resolution
 * percentiles p50/p90/p99 (minutes, nearest rank), the SLA targets of the group's tickets (minutes, from the
 * `slaPolicy` each ticket was opened with, as `first_reply_due_at - opened_at`; the most frequent target when
 * the group's policies differ), SLA breach rates (of the tickets whose outcome is known), reopen and one-touch
 * rates. Filters: a segment (service_customers) and, by priority, a ticket channel.
 */
export async function servicePerformance(
  ctx: QueryContext,
  w: Window,
  by: 'priority' | 'channel',
  slice: Slice = {},
): Promise<Row[]> {
  const cond = sliceSql(slice, 'service_customers', by === 'priority' ? 'channel' : undefined);
  const params = [w.from, w.to, ...cond.params];
  const pct = (column: string) => percentileSql(column, by, cond.sql);
  const fr = await ctx.readModel.sql(
    { sqlite: pct('first_reply_minutes'), postgres: pct('first_reply_minutes') },
    params,
  );
  const res = await ctx.readModel.sql(
    { sqlite: pct('resolution_minutes'), postgres: pct('resolution_minutes') },
    params,
  );
  const rates = `SELECT ${by} AS g, COUNT(*) AS tickets,
      SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) AS resolved,
      SUM(CASE WHEN reopens > 0 THEN 1 ELSE 0 END) AS reopened,
      SUM(one_touch) AS one_touch,
      SUM(CASE WHEN sla_policy IS NOT NULL THEN 1 ELSE 0 END) AS with_sla,
      SUM(CASE WHEN first_reply_breached = 1 THEN 1 ELSE 0 END) AS first_reply_breaches,
      SUM(CASE WHEN first_reply_breached IS NOT NULL THEN 1 ELSE 0 END) AS first_reply_judged,
      SUM(CASE WHEN resolution_breached = 1 THEN 1 ELSE 0 END) AS resolution_breaches,
      SUM(CASE WHEN resolution_breached IS NOT NULL THEN 1 ELSE 0 END) AS resolution_judged
    FROM service_tickets WHERE opened_at >= ? AND opened_at < ?${cond.sql} GROUP BY ${by} ORDER BY ${by}`;
  const counts = await ctx.readModel.sql({ sqlite: rates, postgres: rates }, params);
  const targetsSql = (d: (due: string) => string): string => `SELECT ${by} AS g,
      ${d('first_reply_due_at')} AS first_reply_target, ${d('resolution_due_at')} AS resolution_target,
      COUNT(*) AS n
    FROM service_tickets WHERE sla_policy IS NOT NULL AND opened_at >= ? AND opened_at < ?${cond.sql}
    GROUP BY 1, 2, 3`;
  const targets = await ctx.readModel.sql(
    { sqlite: targetsSql(dueMinutes.sqlite), postgres: targetsSql(dueMinutes.postgres) },
    params,
  );
  /** The most frequent non-null target of a group (ties: the smaller target). */
  const targetOf = (g: string, column: string): number | null => {
    const counts = new Map<number, number>();
    for (const t of targets)
      if (String(t['g']) === g && t[column] !== null)
        counts.set(num(t[column]), (counts.get(num(t[column])) ?? 0) + num(t['n']));
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
    return best === undefined ? null : best[0];
  };
  const byGroup = (rows: readonly Row[]) => new Map(rows.map((r) => [String(r['g']), r]));
  const frs = byGroup(fr);
  const ress = byGroup(res);
  const rate = (part: CellValue | undefined, whole: CellValue | undefined): number | null =>
    num(whole) === 0 ? null : round1((num(part) / num(whole)) * 100);
  return counts.map((c) => {
    const g = String(c['g']);
    const tickets = num(c['tickets']);
    const resolved = num(c['resolved']);
    return {
      [by]: g,
      tickets,
      tickets_with_sla: num(c['with_sla']),
      first_reply_p50: frs.get(g)?.['p50'] ?? null,
      first_reply_p90: frs.get(g)?.['p90'] ?? null,
      first_reply_p99: frs.get(g)?.['p99'] ?? null,
      first_reply_sla_minutes: targetOf(g, 'first_reply_target'),
      first_reply_breaches: num(c['first_reply_breaches']),
      first_reply_breach_pct: rate(c['first_reply_breaches'], c['first_reply_judged']),
      resolution_p50: ress.get(g)?.['p50'] ?? null,
      resolution_p90: ress.get(g)?.['p90'] ?? null,
      resolution_p99: ress.get(g)?.['p99'] ?? null,
      resolution_sla_minutes: targetOf(g, 'resolution_target'),
      resolution_breaches: num(c['resolution_breaches']),
      resolution_breach_pct: rate(c['resolution_breaches'], c['resolution_judged']),
      reopen_rate_pct: tickets === 0 ? null : round1((num(c['reopened']) / tickets) * 100),
      one_touch_rate_pct: resolved === 0 ? null : round1((num(c['one_touch']) / resolved) * 100),
    };
  });
}

/** Contact drivers: tickets per category and month, most frequent categories first within each month. */
export async function contactDrivers(ctx: QueryContext, w: Window, slice: Slice = {}): Promise<Row[]> {
  const cond = sliceSql(slice, 'service_customers', 'channel');
  const text = `SELECT opened_month AS month, category, COUNT(*) AS tickets
    FROM service_tickets WHERE opened_at >= ? AND opened_at < ?${cond.sql}
    GROUP BY opened_month, category ORDER BY opened_month, tickets DESC, category`;
  return [...(await ctx.readModel.sql({ sqlite: text, postgres: text }, [w.from, w.to, ...cond.params]))];
}

/**
 * Perception gap: for tickets the customer scored (answered in the window), satisfaction when the SLA was met
 * vs breached; filters: segment (experience_customers), ticket channel.
 */
export async function perceptionGap(
  ctx: QueryContext,
  w: Window = { from: '1970-01-01', to: '9999-12-31' },
  slice: Slice = {},
): Promise<Row[]> {
  const cond = sliceSql(slice, 'experience_customers', 'channel');
  const text = `SELECT CASE sla_met WHEN 1 THEN 'met' WHEN 0 THEN 'breached' ELSE 'unknown' END AS sla,
      COUNT(*) AS scored_tickets, SUM(satisfied) AS satisfied
    FROM experience_ticket_feedback WHERE answered_at >= ? AND answered_at < ?${cond.sql}
    GROUP BY sla_met ORDER BY CASE sla_met WHEN 1 THEN 0 WHEN 0 THEN 1 ELSE 2 END`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text }, [w.from, w.to, ...cond.params]);
  return rows.map((r) => ({
    ...r,
    satisfied_pct:
      num(r['scored_tickets']) === 0 ? null : round1((num(r['satisfied']) / num(r['scored_tickets'])) * 100),
  }));
}

/** Pain points: touchpoints with the worst mean sentiment (and their mean effort). */
export async function painPoints(ctx: QueryContext, limit: number): Promise<Row[]> {
  const text = `SELECT touchpoint, SUM(interactions) AS interactions,
      SUM(sentiment_sum) / NULLIF(SUM(sentiment_n), 0) AS mean_sentiment,
      1.0 * SUM(effort_sum) / NULLIF(SUM(effort_n), 0) AS mean_effort
    FROM experience_touchpoints GROUP BY touchpoint
    ORDER BY mean_sentiment ASC, mean_effort DESC LIMIT ?`;
  return [...(await ctx.readModel.sql({ sqlite: text, postgres: text }, [limit]))];
}

/** Channel consistency: mean satisfaction (0-100) per channel, and the spread between best and worst. */
export async function channelConsistency(
  ctx: QueryContext,
): Promise<{ channels: Row[]; spread: number | null }> {
  const text = `SELECT channel, SUM(interactions) AS interactions, SUM(satisfaction_n) AS signals,
      SUM(satisfaction_sum) / NULLIF(SUM(satisfaction_n), 0) AS mean_satisfaction
    FROM experience_channels GROUP BY channel ORDER BY channel`;
  const channels = [...(await ctx.readModel.sql({ sqlite: text, postgres: text }))];
  const means = channels.map((c) => c['mean_satisfaction']).filter((m): m is number => typeof m === 'number');
  return { channels, spread: means.length === 0 ? null : round1(Math.max(...means) - Math.min(...means)) };
}

export interface CohortRetention {
  readonly cohort: string;
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

/**
 * Net and gross MRR retention by cohort: a customer's cohort is the month of their first recurring revenue;
 * NRR(k) = cohort MRR k months later / cohort MRR at the end of the cohort month (expansion counts);
 * GRR(k) caps each customer at their starting MRR (expansion does not count). Months up to `asOf`.
 */
export async function mrrRetention(
  ctx: QueryContext,
  asOf: string,
  maxMonths: number,
  slice: Pick<Slice, 'segment'> = {},
): Promise<CohortRetention[]> {
  const cond = sliceSql(slice, 'value_customers');
  const text = `SELECT customer_id, month, mrr_end_minor FROM value_months
    WHERE mrr_end_minor IS NOT NULL${cond.sql} ORDER BY customer_id, month`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text }, cond.params);
  const end = asOf.slice(0, 7);
  const perCustomer = new Map<string, { month: string; mrr: number }[]>();
  for (const r of rows) {
    const id = String(r['customer_id']);
    let list = perCustomer.get(id);
    if (list === undefined) perCustomer.set(id, (list = []));
    list.push({ month: String(r['month']), mrr: num(r['mrr_end_minor']) });
  }
  const cohorts = new Map<string, { customers: number; start: number; net: number[]; gross: number[] }>();
  for (const changes of perCustomer.values()) {
    const first = changes.find((c) => c.mrr > 0);
    if (first === undefined) continue;
    const cohort = first.month;
    let c = cohorts.get(cohort);
    if (c === undefined) cohorts.set(cohort, (c = { customers: 0, start: 0, net: [], gross: [] }));
    c.customers++;
    c.start += first.mrr;
    let current = first.mrr;
    let idx = changes.indexOf(first);
    let month = cohort;
    for (let k = 0; k <= maxMonths && month <= end; k++) {
      while (idx + 1 < changes.length && changes[idx + 1]!.month <= month) current = changes[++idx]!.mrr;
      c.net[k] = (c.net[k] ?? 0) + current;
      c.gross[k] = (c.gross[k] ?? 0) + Math.min(current, first.mrr);
      month = nextMonth(month);
    }
  }
  return [...cohorts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([cohort, c]) => {
      let month = cohort;
      const months = c.net.map((mrr, offset) => {
        const m = {
          offset,
          month,
          mrrMinor: mrr,
          nrrPct: round1((mrr / c.start) * 100),
          grrPct: round1(((c.gross[offset] ?? 0) / c.start) * 100),
        };
        month = nextMonth(month);
        return m;
      });
      return { cohort, customers: c.customers, startMrrMinor: c.start, months };
    });
}

/** Revenue by cohort (month of first purchase) and month: net revenue and its share of month 0. */
export async function revenueRetention(ctx: QueryContext): Promise<Row[]> {
  const text = `SELECT substr(c.first_purchase_at, 1, 7) AS cohort, m.month AS month,
      COUNT(DISTINCT m.customer_id) AS active_customers,
      SUM(m.gross_minor) AS gross_minor, SUM(m.gross_minor - m.refunds_minor) AS net_minor
    FROM value_months m JOIN value_customers c ON c.customer_id = m.customer_id
    WHERE c.first_purchase_at IS NOT NULL AND m.month >= substr(c.first_purchase_at, 1, 7)
    GROUP BY substr(c.first_purchase_at, 1, 7), m.month ORDER BY cohort, month`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text.replaceAll('substr(', 'substring(') });
  const base = new Map<string, number>();
  return rows.map((r) => {
    const cohort = String(r['cohort']);
    if (!base.has(cohort)) base.set(cohort, num(r['net_minor']));
    const b = base.get(cohort) ?? 0;
    return { ...r, net_retention_pct: b === 0 ? null : round1((num(r['net_minor']) / b) * 100) };
  });
}
