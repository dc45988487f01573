import type { Row } from '@crm-ledger/core';
import { num, round1, sliceSql, type QueryContext, type Slice, type Window } from './query-context.js';

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
  // Flags are conditions (SQLite 1/0, PostgreSQL boolean): the same text runs on both.
  const text = `SELECT CASE WHEN sla_met THEN 'met' WHEN NOT sla_met THEN 'breached' ELSE 'unknown' END AS sla,
      COUNT(*) AS scored_tickets, SUM(CASE WHEN satisfied THEN 1 ELSE 0 END) AS satisfied
    FROM experience_ticket_feedback WHERE answered_at >= ? AND answered_at < ?${cond.sql}
    GROUP BY sla_met ORDER BY CASE WHEN sla_met THEN 0 WHEN NOT sla_met THEN 1 ELSE 2 END`;
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
