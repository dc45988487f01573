import type { RawEnvelope } from '@crm-ledger/events';

export interface GenerateOptions {
  /** Same seed, same options: byte-identical output. */
  readonly seed: number;
  readonly customers: number;
  /** About how many events in total (within a few percent), default `customers * 100`. */
  readonly targetEvents?: number;
  /** First instant of the history (ISO-8601), default 2023-01-01T00:00:00Z. */
  readonly start?: string;
  /** Last instant of the history (ISO-8601), default 2025-12-31T23:59:59Z. */
  readonly end?: string;
}

export interface CustomerHistory {
  readonly customerId: string;
  /** The customer's events, sorted by `occurredAt`. */
  readonly events: RawEnvelope[];
}

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** Customer ids look like `c-000123`. */
export function customerIdOf(index: number): string {
  return `c-${String(index).padStart(6, '0')}`;
}

export interface Context {
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly average: number;
}

export function contextOf(options: GenerateOptions): Context {
  const start = Date.parse(options.start ?? '2023-01-01T00:00:00Z');
  const end = Date.parse(options.end ?? '2025-12-31T23:59:59Z');
  if (!Number.isFinite(start) || !Number.isFinite(end) || end - start < 30 * DAY) {
    throw new RangeError('start and end must be ISO-8601 instants at least 30 days apart');
  }
  if (!Number.isInteger(options.customers) || options.customers < 0) {
    throw new RangeError('customers must be a non-negative integer');
  }
  const target = options.targetEvents ?? options.customers * 100;
  return {
    seed: options.seed | 0,
    start,
    end,
    average: options.customers === 0 ? 0 : target / options.customers,
  };
}

/** Two decimals, and never -0 (JSON cannot tell -0 from 0, so a round trip would change it). */
export const round2 = (x: number): number => Math.round(x * 100) / 100 + 0;
export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
export const isoDate = (t: number): string => new Date(t).toISOString().slice(0, 10);

export function addMonths(t: number, months: number): number {
  const d = new Date(t);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}
