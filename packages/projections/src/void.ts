import { recordFrom } from '@crm-ledger/events';
import type { Row, RowChange } from '@crm-ledger/core';
import type { LedgerEvent } from '@crm-ledger/events';
import type { CustomerProjection } from './projection.js';

/** An event of one customer's stream with its global position. */
export interface Positioned {
  readonly position: number;
  readonly event: LedgerEvent;
}

/**
 * The ids an `EventVoided` of this history voids. A void of a void is ignored (a correction is undone by
 * recording the event again under a new id, never by voiding the void): voiding is not a toggle.
 */
export function voidedIds(events: Iterable<Positioned>): Set<string> {
  const voids = new Set<string>();
  for (const { event } of events) if (event.type === 'EventVoided') voids.add(event.data.eventId);
  return voids;
}

/** The events that count: every event except the voided ones (and except the voids themselves, no-ops). */
export function withoutVoided(events: readonly Positioned[]): Positioned[] {
  const voided = voidedIds(events);
  return events.filter((e) => e.event.type !== 'EventVoided' && !voided.has(e.event.eventId));
}

/** True when the history holds a void: the customer is then folded from scratch without the voided events. */
export const hasVoid = (events: Iterable<Positioned>): boolean => {
  for (const { event } of events) if (event.type === 'EventVoided') return true;
  return false;
};

/**
 * Folds a customer's whole history as if the voided events had never been recorded: the state a ledger without
 * them would have. Same positions as in the log, so anomaly rows keep their keys.
 */
export function foldWithoutVoided<S>(
  projection: CustomerProjection<S>,
  customerId: string,
  events: readonly Positioned[],
): { state: S; kept: number } {
  // Exchange rates are no fact about a customer (their stream has no view rows, with or without voids).
  const kept = withoutVoided(events).filter((e) => e.event.type !== 'ExchangeRateRecorded');
  const state = projection.init(customerId);
  for (const { position, event } of kept) projection.evolve(state, event, position);
  return { state, kept: kept.length };
}

const keyOf = (row: Row, columns: readonly string[]): string =>
  JSON.stringify(columns.map((c) => row[c] ?? null));

/**
 * The row changes that turn a customer's rows from `before` (the state the view holds, and the positions of
 * its anomaly rows) into the re-folded `after`: every row of `after` upserted (state and anomaly rows
 * included), every row of `before` that `after` no longer has deleted. When nothing is left (every event of
 * the customer was voided) the customer disappears from the view, state row included.
 */
export function refoldChanges<S>(
  projection: CustomerProjection<S>,
  customerId: string,
  before: S,
  beforeAnomalyPositions: readonly number[],
  after: { state: S; kept: number },
): RowChange[] {
  const out: RowChange[] = [];
  const primaryKey = (table: string): readonly string[] =>
    projection.spec.tables.find((t) => t.name === table)?.primaryKey ?? [];
  const oldRows = projection.rows(before);
  const newRows = after.kept === 0 ? {} : projection.rows(after.state);
  for (const [table, rows] of Object.entries(oldRows)) {
    const pk = primaryKey(table);
    const keep = new Set((newRows[table] ?? []).map((r) => keyOf(r, pk)));
    for (const r of rows)
      if (!keep.has(keyOf(r, pk)))
        out.push({ op: 'delete', table, key: recordFrom(pk.map((c) => [c, r[c] ?? null] as const)) });
  }
  const flushed = after.kept === 0 ? [] : projection.flush(after.state);
  const newAnomalies = new Set<number>();
  for (const c of flushed)
    if (c.op === 'upsert' && c.table === `${projection.name}_anomalies`)
      newAnomalies.add(Number(c.row['position']));
  for (const p of beforeAnomalyPositions)
    if (!newAnomalies.has(p))
      out.push({ op: 'delete', table: `${projection.name}_anomalies`, key: { position: p } });
  if (after.kept === 0) {
    out.push({ op: 'delete', table: `${projection.name}_state`, key: { customer_id: customerId } });
    return out;
  }
  // Every row of the re-folded state, whether or not its handler marked it changed.
  for (const [table, rows] of Object.entries(newRows))
    for (const row of rows) out.push({ op: 'upsert', table, row });
  for (const c of flushed) out.push(c);
  return out;
}
