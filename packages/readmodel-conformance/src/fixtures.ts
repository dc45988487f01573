import type { ProjectionSpec, ReadModelStore, Row, RowChange, Sort } from '@crm-ledger/core';
import { emptyRecord } from '@crm-ledger/events';

/** A small projection with every column type, nullable columns, a composite key and an index. */
export const demoSpec = (version = 1): ProjectionSpec => ({
  name: 'demo',
  version,
  tables: [
    {
      name: 'demo_tickets',
      description: 'One row per ticket',
      primaryKey: ['customer_id', 'ticket_id'],
      columns: [
        { name: 'customer_id', type: 'text', description: 'The customer' },
        { name: 'ticket_id', type: 'text' },
        { name: 'status', type: 'text' },
        { name: 'priority', type: 'text', nullable: true },
        { name: 'replies', type: 'integer' },
        { name: 'first_reply_hours', type: 'real', nullable: true },
        { name: 'opened_at', type: 'timestamp' },
        { name: 'resolved_at', type: 'timestamp', nullable: true },
        { name: 'breached', type: 'boolean', nullable: true },
        { name: 'one_touch', type: 'boolean' },
        { name: 'amount_minor', type: 'integer' },
        { name: 'currency', type: 'text' },
      ],
      indexes: [{ name: 'demo_tickets_by_status', columns: ['status'] }],
    },
    {
      name: 'demo_totals',
      primaryKey: ['customer_id'],
      columns: [
        { name: 'customer_id', type: 'text' },
        { name: 'open_tickets', type: 'integer' },
      ],
    },
    {
      name: 'demo_held',
      primaryKey: ['customer_id'],
      columns: [
        { name: 'customer_id', type: 'text' },
        { name: 'position', type: 'integer' },
        { name: 'retry', type: 'boolean' },
      ],
    },
  ],
});

/** A ticket row: every column given (the port's cells: ISO text times, 0/1 flags, integer minor units). */
export const ticket = (
  customer: string,
  id: string,
  extra: Partial<Record<string, string | number | null>> = emptyRecord(),
): Row => ({
  customer_id: customer,
  ticket_id: id,
  status: 'open',
  priority: 'normal',
  replies: 0,
  first_reply_hours: null,
  opened_at: '2025-03-01T09:30:00.000Z',
  resolved_at: null,
  breached: null,
  one_touch: 0,
  amount_minor: 0,
  currency: 'EUR',
  ...extra,
});

export const upsertTicket = (row: Row): RowChange => ({ op: 'upsert', table: 'demo_tickets', row });

/** `count` tickets over four customers with many ties, NULLs in the nullable sort columns. */
export function manyTickets(count: number, prefix = 't'): Row[] {
  return Array.from({ length: count }, (_, i) =>
    ticket(`p${i % 4}`, `${prefix}${String(i).padStart(3, '0')}`, {
      priority: i % 5 === 0 ? null : ['low', 'high', 'urgent'][i % 3]!,
      replies: i % 3,
      first_reply_hours: i % 6 === 0 ? null : (i % 4) * 1.5,
      opened_at: new Date(Date.UTC(2025, 0, 1 + (i % 9), 8)).toISOString(),
      resolved_at: i % 2 === 0 ? null : new Date(Date.UTC(2025, 1, 1 + (i % 5), 17, 30)).toISOString(),
      breached: i % 4 === 0 ? null : i % 4 === 1 ? 1 : 0,
      one_touch: i % 3 === 0 ? 1 : 0,
      amount_minor: (i % 7) * 1250,
      currency: i % 2 === 0 ? 'EUR' : 'JPY',
    }),
  );
}

/** Every row of a `list`, page by page (asserting the page size), following `nextCursor`. */
export async function pageAll(
  store: ReadModelStore,
  table: string,
  query: { where?: Parameters<ReadModelStore['list']>[1]['where']; orderBy?: Sort[]; limit: number },
  between?: (page: number) => Promise<void>,
): Promise<Row[]> {
  const seen: Row[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list(table, { ...query, ...(cursor === undefined ? {} : { cursor }) });
    if (page.rows.length > query.limit)
      throw new Error(`a page of ${page.rows.length} rows, limit ${query.limit}`);
    seen.push(...page.rows);
    cursor = page.nextCursor;
    pages += 1;
    if (pages > 10_000) throw new Error('the cursor never ends');
    if (cursor !== undefined) await between?.(pages);
  } while (cursor !== undefined);
  return seen;
}

/** Compares cells as the port orders them: NULL first, numbers numerically, text by UTF-8 bytes. */
export function compareCells(a: Row[string] | undefined, b: Row[string] | undefined): number {
  const x = a ?? null;
  const y = b ?? null;
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return Buffer.compare(Buffer.from(String(x)), Buffer.from(String(y)));
}

/** The order `list` gives for `orderBy` on a table keyed by `primaryKey` (NULLs first ascending, last descending). */
export function sortedLikeList(
  rows: readonly Row[],
  orderBy: readonly Sort[],
  primaryKey: readonly string[],
): Row[] {
  const sorts = [
    ...orderBy,
    ...primaryKey
      .filter((k) => !orderBy.some((s) => s.column === k))
      .map((column) => ({ column, direction: 'asc' as const })),
  ];
  return [...rows].sort((a, b) => {
    for (const s of sorts) {
      const c = compareCells(a[s.column], b[s.column]);
      if (c !== 0) return s.direction === 'asc' ? c : -c;
    }
    return 0;
  });
}
