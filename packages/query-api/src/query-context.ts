import type { CellValue, EventStore, ReadModelStore } from '@crm-ledger/core';
import type { HealthWeights } from '@crm-ledger/projections';
import type { PiiVault } from '@crm-ledger/pii';

export interface QueryContext {
  readonly readModel: ReadModelStore;
  readonly store: EventStore;
  readonly weights?: HealthWeights;
  /** Days without interaction after which a customer is silent (default `DEFAULT_SILENT_DAYS`). */
  readonly silentAfterDays?: number;
  /** The customer keys: the 360 shows contact details decrypted (null once the customer was erased). */
  readonly vault?: PiiVault;
}

export interface Window {
  /** Inclusive lower bound (ISO date or time). */
  readonly from: string;
  /** Exclusive upper bound. */
  readonly to: string;
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const num = (v: CellValue | undefined): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** Who an aggregate counts: customers of one segment, interactions on one channel (both optional). */
export interface Slice {
  readonly segment?: string;
  readonly channel?: string;
}

/**
 * SQL conditions (each starting with AND) and their parameters for a slice: the segment through the view's own
 * customers table (`customersTable`), the channel through `channelColumn` of the aggregated table.
 */
export function sliceSql(
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
