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
import type { PiiVault } from '@crm-ledger/pii';

export interface QueryContext {
  readonly readModel: ReadModelStore;
  readonly store: EventStore;
  readonly weights?: HealthWeights;
  /** The customer keys: the 360 shows contact details decrypted (null once the customer was erased). */
  readonly vault?: PiiVault;
}

/** The customer's contact details as last registered or updated, decrypted at this edge. */
export interface Contact {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  /** True once the customer was erased: their key is destroyed, every personal field is null. */
  readonly erased: boolean;
}

/**
 * Folds the customer's registration and profile updates (in log order) into their contact details, decrypting
 * the personal fields with the customer's key. Null without a key store (the process was given none).
 */
export async function contactOf(
  vault: PiiVault | undefined,
  events: readonly StoredEvent[],
): Promise<Contact | null> {
  if (vault === undefined) return null;
  const reader = vault.reader(1);
  const contact = { name: null as string | null, email: null as string | null, phone: null as string | null };
  let erased = false;
  const ordered = [...events].sort((a, b) => a.globalPosition - b.globalPosition);
  for (const s of ordered) {
    if (s.event.type === 'CustomerErased') erased = true;
    if (s.event.type !== 'CustomerRegistered' && s.event.type !== 'CustomerProfileUpdated') continue;
    const d = await reader.decrypt(s.event);
    if (E.isLeft(d)) throw new Error(d.left.message);
    erased ||= d.right.erased;
    const data = d.right.event.data as Record<string, unknown>;
    for (const field of ['name', 'email', 'phone'] as const) {
      const v = data[field];
      if (v === null || typeof v === 'string') contact[field] = v;
    }
  }
  if (!erased) {
    const state = await reader.isErased(ordered[0]?.event.customerId ?? '');
    erased = E.isRight(state) && state.right;
  }
  return erased ? { name: null, email: null, phone: null, erased: true } : { ...contact, erased: false };
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
  /** Contact details (personal data, decrypted); null when the process has no key store. */
  readonly contact: Contact | null;
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
    contact: await contactOf(ctx.vault, events),
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
function percentileSql(column: string, group: string): string {
  return `WITH v AS (
      SELECT ${group} AS g, ${column} AS x,
             ROW_NUMBER() OVER (PARTITION BY ${group} ORDER BY ${column}) AS rn,
             COUNT(*) OVER (PARTITION BY ${group}) AS n
      FROM service_tickets WHERE ${column} IS NOT NULL AND opened_at >= ? AND opened_at < ?)
    SELECT g, n, MIN(CASE WHEN rn >= 0.5 * n THEN x END) AS p50, MIN(CASE WHEN rn >= 0.9 * n THEN x END) AS p90,
           MIN(CASE WHEN rn >= 0.99 * n THEN x END) AS p99
    FROM v GROUP BY g, n ORDER BY g`;
}

/**
 * Service performance per priority or channel in a window of opening times: first-reply and resolution
 * percentiles (minutes), SLA breach, reopen and one-touch rates.
 */
export async function servicePerformance(
  ctx: QueryContext,
  w: Window,
  by: 'priority' | 'channel',
): Promise<Row[]> {
  const params = [w.from, w.to];
  const fr = await ctx.readModel.sql(
    { sqlite: percentileSql('first_reply_minutes', by), postgres: percentileSql('first_reply_minutes', by) },
    params,
  );
  const res = await ctx.readModel.sql(
    { sqlite: percentileSql('resolution_minutes', by), postgres: percentileSql('resolution_minutes', by) },
    params,
  );
  const rates = `SELECT ${by} AS g, COUNT(*) AS tickets,
      SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) AS resolved,
      SUM(CASE WHEN reopens > 0 THEN 1 ELSE 0 END) AS reopened,
      SUM(one_touch) AS one_touch,
      SUM(CASE WHEN first_reply_breached = 1 THEN 1 ELSE 0 END) AS first_reply_breaches,
      SUM(CASE WHEN resolution_breached = 1 THEN 1 ELSE 0 END) AS resolution_breaches
    FROM service_tickets WHERE opened_at >= ? AND opened_at < ? GROUP BY ${by} ORDER BY ${by}`;
  const counts = await ctx.readModel.sql({ sqlite: rates, postgres: rates }, params);
  const byGroup = (rows: readonly Row[]) => new Map(rows.map((r) => [String(r['g']), r]));
  const frs = byGroup(fr);
  const ress = byGroup(res);
  return counts.map((c) => {
    const g = String(c['g']);
    const tickets = num(c['tickets']);
    const resolved = num(c['resolved']);
    return {
      [by]: g,
      tickets,
      first_reply_p50: frs.get(g)?.['p50'] ?? null,
      first_reply_p90: frs.get(g)?.['p90'] ?? null,
      first_reply_p99: frs.get(g)?.['p99'] ?? null,
      resolution_p50: ress.get(g)?.['p50'] ?? null,
      resolution_p90: ress.get(g)?.['p90'] ?? null,
      reopen_rate_pct: tickets === 0 ? null : round1((num(c['reopened']) / tickets) * 100),
      one_touch_rate_pct: resolved === 0 ? null : round1((num(c['one_touch']) / resolved) * 100),
      first_reply_breaches: num(c['first_reply_breaches']),
      resolution_breaches: num(c['resolution_breaches']),
    };
  });
}

/** Contact drivers: tickets per category and month, most frequent categories first within each month. */
export async function contactDrivers(ctx: QueryContext, w: Window): Promise<Row[]> {
  const text = `SELECT opened_month AS month, category, COUNT(*) AS tickets
    FROM service_tickets WHERE opened_at >= ? AND opened_at < ?
    GROUP BY opened_month, category ORDER BY opened_month, tickets DESC, category`;
  return [...(await ctx.readModel.sql({ sqlite: text, postgres: text }, [w.from, w.to]))];
}

/** Perception gap: for tickets the customer scored, satisfaction when the SLA was met vs breached. */
export async function perceptionGap(ctx: QueryContext): Promise<Row[]> {
  const text = `SELECT CASE sla_met WHEN 1 THEN 'met' WHEN 0 THEN 'breached' ELSE 'unknown' END AS sla,
      COUNT(*) AS scored_tickets, SUM(satisfied) AS satisfied
    FROM experience_ticket_feedback GROUP BY sla_met ORDER BY sla_met DESC`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text });
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
): Promise<CohortRetention[]> {
  const text = `SELECT customer_id, month, mrr_end_minor FROM value_months
    WHERE mrr_end_minor IS NOT NULL ORDER BY customer_id, month`;
  const rows = await ctx.readModel.sql({ sqlite: text, postgres: text });
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
