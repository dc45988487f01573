import type { CellValue, Row } from '@crm-ledger/core';
import { num, round1, sliceSql, type QueryContext, type Slice, type Window } from './query-context.js';

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
      SUM(CASE WHEN one_touch THEN 1 ELSE 0 END) AS one_touch,
      SUM(CASE WHEN sla_policy IS NOT NULL THEN 1 ELSE 0 END) AS with_sla,
      SUM(CASE WHEN first_reply_breached THEN 1 ELSE 0 END) AS first_reply_breaches,
      SUM(CASE WHEN first_reply_breached IS NOT NULL THEN 1 ELSE 0 END) AS first_reply_judged,
      SUM(CASE WHEN resolution_breached THEN 1 ELSE 0 END) AS resolution_breaches,
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
