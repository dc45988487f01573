import type { ColumnSpec, ProjectionSpec, Row, RowChange, TableSpec } from '@crm-ledger/core';
import { parseJsonRecords, recordFrom } from '@crm-ledger/events';
import { evolveWith, newProfile, type Profile } from './profile.js';
import {
  anomaliesTable,
  col,
  flushAnomalies,
  heldTable,
  stateTable,
  newPending,
  upsert,
  type CustomerProjection,
  type Handlers,
  type Pending,
  type ProjectionName,
  type StateBase,
} from './projection.js';

/** What every view's persistent state starts with: the customer, its anomaly count, its profile. */
export interface ViewData extends StateBase {
  profile: Profile;
}

/** A view's state: the persistent part (`data`, stored as JSON in `<view>_state`) and what changed since the last flush. */
export interface ViewState<D extends ViewData> {
  data: D;
  pending: Pending;
}

/** A row of one of the view's tables. */
export interface TableRow {
  readonly table: string;
  readonly row: Row;
}

/**
 * What a view says; the frame ({@link viewFrame}) does the rest. A view keeps one summary row per customer
 * (rewritten whenever any event of the customer was applied) and detail rows named by keys (tickets,
 * months...), each rewritten when a handler marked its key dirty (`state.pending.dirty`).
 */
export interface View<D extends ViewData> {
  readonly name: ProjectionName;
  readonly spec: ProjectionSpec;
  /** The view's own fields of a customer's state before any event (after customerId, anomalyCount, profile). */
  fresh(): Omit<D, keyof ViewData>;
  readonly handlers: Handlers<ViewState<D>>;
  /** The table of the per-customer summary row. */
  readonly summaryTable: string;
  summaryRow(data: D): Row;
  /** Rows written with every summary row (the few per-currency rows of value), in order. */
  withSummary?(data: D): readonly TableRow[];
  /** The detail row a dirty key names; undefined when it names no row. */
  detailRow(data: D, key: string): TableRow | undefined;
  /** Every detail key of a state, in the order {@link CustomerProjection.rows} lists their rows. */
  detailKeys(data: D): readonly string[];
}

/**
 * A view's spec: its own tables, then the tables every view has (anomalies, state, held customers).
 * Changing the shape of any table means bumping `version` and rebuilding.
 */
export function viewSpec(
  name: ProjectionName,
  version: number,
  tables: readonly TableSpec[],
): ProjectionSpec {
  return { name, version, tables: [...tables, anomaliesTable(name), stateTable(name), heldTable(name)] };
}

/** The profile columns (see `profileColumns`) as most views describe them. */
export const profileCols = (): ColumnSpec[] => [
  col('segment', 'text', 'B2B or B2C', true),
  col('acquisition_channel', 'text', 'How the customer was acquired', true),
  col('cohort_month', 'text', 'YYYY-MM of registration (or of the first event)', true),
];

const INTERNAL = ['_state', '_anomalies', '_held'];

/**
 * The frame every view shares: the fresh state, evolve (profile, summary flag, the view's handlers), flush
 * (dirty detail rows, the summary rows, anomalies, then the state row), rows, and decoding a stored state.
 * The state row is `JSON.stringify(data)`, its fields in the order `fresh` gives them after the base fields.
 */
export function viewFrame<D extends ViewData>(view: View<D>): CustomerProjection<ViewState<D>> {
  const { name } = view;
  // rows(): the summary table first, then the view's other tables in the order of its spec.
  const tables = [
    view.summaryTable,
    ...view.spec.tables
      .map((t) => t.name)
      .filter((t) => t !== view.summaryTable && !INTERNAL.some((suffix) => t === `${name}${suffix}`)),
  ];
  const summaryRows = (d: D): TableRow[] => [
    { table: view.summaryTable, row: view.summaryRow(d) },
    ...(view.withSummary?.(d) ?? []),
  ];
  return {
    name,
    spec: view.spec,
    init: (customerId) => ({
      data: { customerId, anomalyCount: 0, profile: newProfile(), ...view.fresh() } as D,
      pending: newPending(),
    }),
    evolve: evolveWith(view.handlers),
    flush(state) {
      const d = state.data;
      const pending = state.pending;
      const out: RowChange[] = [];
      if (!pending.summary && pending.dirty.size === 0 && pending.anomalies.length === 0) return out;
      for (const key of pending.dirty) {
        const r = view.detailRow(d, key);
        if (r !== undefined) out.push(upsert(r.table, r.row));
      }
      for (const r of summaryRows(d)) out.push(upsert(r.table, r.row));
      out.push(...flushAnomalies(name, d.customerId, pending));
      out.push(upsert(`${name}_state`, { customer_id: d.customerId, state: JSON.stringify(d) }));
      pending.dirty.clear();
      pending.summary = false;
      return out;
    },
    rows(state) {
      const out = new Map<string, Row[]>(tables.map((t) => [t, []]));
      const add = (r: TableRow | undefined): void => {
        if (r !== undefined) out.get(r.table)?.push(r.row);
      };
      summaryRows(state.data).forEach(add);
      for (const key of view.detailKeys(state.data)) add(view.detailRow(state.data, key));
      return recordFrom(out);
    },
    decode: (_customerId, text) => ({ data: parseJsonRecords(text) as D, pending: newPending() }),
  };
}
