import {
  decodeCursor as decodeCells,
  encodeCursor as encodeCells,
  InvalidCursor,
  type CellValue,
  type Row,
} from '@crm-ledger/core';
import { emptyRecord, parseJsonRecords, type SignalType } from '@crm-ledger/events';
import type { SignalStatus } from '@crm-ledger/projections';
import type { QueryContext } from './queries.js';

/** What `GET /v1/signals` asks: filters over the success view's `success_signals` table, and a page. */
export interface SignalListQuery {
  readonly status?: SignalStatus['status'];
  readonly type?: SignalType;
  readonly customerId?: string;
  readonly segment?: string;
  /** Signals that occurred at or after this instant (ISO-8601 UTC with milliseconds). */
  readonly since?: string;
  /** Signals that occurred before this instant (exclusive). */
  readonly until?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** A signal of the list: where it stands (as `signalStatuses` says), its global position and its data. */
export interface ListedSignal extends SignalStatus {
  readonly position: number;
  readonly data: Readonly<Record<string, unknown>>;
}

const SORT = 'signals:occurred_at:desc';

function decodeCursor(cursor: string): { occurredAt: string; signalId: string } {
  const [occurredAt, signalId] = decodeCells(cursor, SORT, 2);
  if (typeof occurredAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(occurredAt))
    throw new InvalidCursor('not an instant');
  if (typeof signalId !== 'string' || signalId.length > 64) throw new InvalidCursor('not a signal id');
  return { occurredAt, signalId };
}

/** The SQL of one page (one more row than `limit`, to know whether another page follows) and its parameters. */
export function signalListSql(q: SignalListQuery): { text: string; params: CellValue[] } {
  const where: string[] = [];
  const params: CellValue[] = [];
  const add = (clause: string, ...values: CellValue[]): void => {
    where.push(clause);
    params.push(...values);
  };
  if (q.status !== undefined) add('status = ?', q.status);
  if (q.type !== undefined) add('type = ?', q.type);
  if (q.customerId !== undefined) add('customer_id = ?', q.customerId);
  if (q.segment !== undefined)
    add('customer_id IN (SELECT customer_id FROM success_accounts WHERE segment = ?)', q.segment);
  if (q.since !== undefined) add('occurred_at >= ?', q.since);
  if (q.until !== undefined) add('occurred_at < ?', q.until);
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    add('(occurred_at < ? OR (occurred_at = ? AND signal_id < ?))', c.occurredAt, c.occurredAt, c.signalId);
  }
  const text = `SELECT * FROM success_signals${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}
    ORDER BY occurred_at DESC, signal_id DESC LIMIT ${q.limit + 1}`;
  return { text, params };
}

const text = (v: CellValue | undefined): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: CellValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** A `success_signals` row as the API answers it: the names of the per-customer route. */
export function listedSignal(r: Row): ListedSignal {
  const data = parseJsonRecords(String(r['data'] ?? '{}'));
  return {
    signalId: String(r['signal_id']),
    customerId: String(r['customer_id']),
    type: String(r['type']) as SignalType,
    raisedAt: String(r['occurred_at']),
    status: String(r['status']) as SignalStatus['status'],
    closedAt: text(r['closed_at']),
    closedBy: text(r['closed_by']) as SignalStatus['closedBy'],
    closedByEventId: text(r['closed_by_event_id']),
    minutesToAction: num(r['minutes_to_action']),
    position: Number(r['position']),
    data: (data !== null && typeof data === 'object' ? data : emptyRecord()) as Record<string, unknown>,
  };
}

/**
 * Signals across customers, newest first (occurredAt, then signal id, both descending), from the success
 * view's `success_signals` table (maintained by the projector: no read of the log). Every filter runs in the
 * store's SQL before paging; the cursor holds the page's last (occurredAt, signal id).
 */
export async function listSignals(
  ctx: QueryContext,
  q: SignalListQuery,
): Promise<{ items: ListedSignal[]; nextCursor?: string }> {
  const { text: sql, params } = signalListSql(q);
  const rows = await ctx.readModel.sql({ sqlite: sql, postgres: sql }, params);
  const page = rows.slice(0, q.limit);
  const items = page.map(listedSignal);
  const last = items[items.length - 1];
  return rows.length > q.limit && last !== undefined
    ? { items, nextCursor: encodeCells(SORT, [last.raisedAt, last.signalId]) }
    : { items };
}

/** Per signal type: how many were raised and where they stand (the success view's follow-up figures). */
export interface SignalFollowUp {
  readonly type: SignalType;
  readonly count: number;
  readonly open: number;
  readonly acted: number;
  readonly dismissed: number;
  /** acted / count, percent with one decimal. */
  readonly actedSharePct: number | null;
  /** Median minutes from signal to action over the acted ones; null when none. */
  readonly medianMinutesToAction: number | null;
}

/**
 * The signal follow-up per type over `success_signals` (customers of `segment` only, when given): counts by
 * status in SQL, the median minutes to action from the distinct minute values and their counts (as
 * `signalSummary` computes it, without sending every signal).
 */
export async function signalFollowUp(
  ctx: QueryContext,
  segment: string | undefined,
): Promise<{ byType: SignalFollowUp[]; total: Omit<SignalFollowUp, 'type'> }> {
  const where =
    segment === undefined
      ? ''
      : 'WHERE customer_id IN (SELECT customer_id FROM success_accounts WHERE segment = ?)';
  const sql = `SELECT type, status, minutes_to_action AS minutes, COUNT(*) AS n FROM success_signals ${where}
    GROUP BY type, status, minutes_to_action ORDER BY type, status, minutes_to_action`;
  const rows = await ctx.readModel.sql(
    { sqlite: sql, postgres: sql },
    segment === undefined ? [] : [segment],
  );
  const groups = new Map<string, { status: string; minutes: number | null; n: number }[]>();
  for (const r of rows) {
    const type = String(r['type']);
    const list = groups.get(type) ?? [];
    list.push({ status: String(r['status']), minutes: num(r['minutes']), n: Number(r['n']) });
    groups.set(type, list);
  }
  const summarise = (list: readonly { status: string; minutes: number | null; n: number }[]) => {
    const count = (s: string): number => list.filter((g) => g.status === s).reduce((a, g) => a + g.n, 0);
    const all = list.reduce((a, g) => a + g.n, 0);
    const acted = count('acted');
    return {
      count: all,
      open: count('open'),
      acted,
      dismissed: count('dismissed'),
      actedSharePct: all === 0 ? null : Math.round((acted / all) * 1000) / 10,
      medianMinutesToAction: median(
        list.filter((g) => g.status === 'acted').map((g) => ({ value: g.minutes ?? 0, n: g.n })),
      ),
    };
  };
  const byType = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([type, list]) => ({ type: type as SignalType, ...summarise(list) }));
  return { byType, total: summarise([...groups.values()].flat()) };
}

/** The median of values given with their counts (the mean of the two middle ones for an even count). */
function median(values: readonly { value: number; n: number }[]): number | null {
  const sorted = [...values].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((a, v) => a + v.n, 0);
  if (total === 0) return null;
  const at = (k: number): number => {
    let seen = 0;
    for (const v of sorted) {
      seen += v.n;
      if (k < seen) return v.value;
    }
    return sorted[sorted.length - 1]!.value;
  };
  const mid = Math.floor(total / 2);
  return total % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}
