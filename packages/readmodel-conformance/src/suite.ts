import {
  encodeCursor,
  isCheckpointMoved,
  isInvalidCursor,
  listSortKey,
  type ReadModelStore,
  type Row,
  type Sort,
} from '@crm-ledger/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { documentedQueries, seedViews } from './documented-sql.js';
import {
  compareCells,
  demoSpec,
  manyTickets,
  pageAll,
  sortedLikeList,
  ticket,
  upsertTicket,
} from './fixtures.js';

export interface ReadModelFixture {
  /** A fresh, empty store (its own file, its own schema). */
  readonly store: ReadModelStore;
  /** Opens another instance over the same storage (a restart, or a second process). The suite closes it. */
  readonly reopen: () => Promise<ReadModelStore>;
  /** Closes `store` and removes its storage. */
  readonly cleanup: () => Promise<void>;
}

export type ReadModelFactory = () => Promise<ReadModelFixture>;

/** The rejection of `promise`, or a failed assertion when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

const TICKET_KEY = ['customer_id', 'ticket_id'];

/**
 * Registers the read-model conformance cases (vitest) for one `ReadModelStore` implementation: every adapter
 * of the port runs the same cases (see the package README). `factory` gives a fresh store per case.
 */
export function readModelConformance(name: string, factory: ReadModelFactory): void {
  describe(`read-model conformance: ${name}`, () => {
    let fx: ReadModelFixture;
    let store: ReadModelStore;
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      expect(await store.ensureProjection(demoSpec())).toEqual({ checkpoint: 0, versionChanged: false });
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    describe('rows and checkpoint', () => {
      it('applies rows and checkpoint in one transaction, changes in order, the last upsert of a key wins', async () => {
        await store.apply([
          {
            projection: 'demo',
            checkpoint: 10,
            changes: [
              upsertTicket(ticket('c1', 't1')),
              upsertTicket(ticket('c1', 't2')),
              upsertTicket(ticket('c1', 't1', { status: 'resolved', replies: 2 })),
              { op: 'upsert', table: 'demo_totals', row: { customer_id: 'c1', open_tickets: 1 } },
              { op: 'delete', table: 'demo_tickets', key: { customer_id: 'c1', ticket_id: 't2' } },
              upsertTicket(ticket('c1', 't2', { status: 'reopened' })),
            ],
          },
        ]);
        expect(await store.checkpoint('demo')).toBe(10);
        expect(await store.find('demo_tickets', [{ column: 'customer_id', op: 'eq', value: 'c1' }])).toEqual([
          ticket('c1', 't1', { status: 'resolved', replies: 2 }),
          ticket('c1', 't2', { status: 'reopened' }),
        ]);
        expect(await store.get('demo_totals', { customer_id: 'c1' })).toEqual({
          customer_id: 'c1',
          open_tickets: 1,
        });
        expect(await store.get('demo_totals', { customer_id: 'nobody' })).toBeUndefined();
      });

      it('gives back every cell as written: text, integers, reals, times, flags, NULLs, unicode', async () => {
        const row = ticket('c\u00e9\u{1F600}', 'x', {
          priority: null,
          replies: 2 ** 40,
          first_reply_hours: 1.25,
          opened_at: '2024-02-29T23:59:59.999Z',
          resolved_at: '2025-01-01T00:00:00.000Z',
          breached: 1,
          one_touch: 1,
          amount_minor: 9_007_199_254_740_991,
          currency: 'JPY',
        });
        await store.apply([{ projection: 'demo', checkpoint: 1, changes: [upsertTicket(row)] }]);
        expect(await store.get('demo_tickets', { customer_id: row['customer_id']!, ticket_id: 'x' })).toEqual(
          row,
        );
        expect((await store.list('demo_tickets', { limit: 5 })).rows).toEqual([row]);
      });

      it('refuses a write that does not move the checkpoint forward, and writes nothing of that apply', async () => {
        await store.apply([
          { projection: 'demo', checkpoint: 10, changes: [upsertTicket(ticket('a', '1'))] },
        ]);
        for (const checkpoint of [10, 9]) {
          await expect(
            store.apply([
              { projection: 'demo', checkpoint: 20, changes: [] },
              { projection: 'demo', checkpoint, changes: [upsertTicket(ticket('b', '1'))] },
            ]),
          ).rejects.toThrow(/twice/);
        }
        expect(await store.checkpoint('demo')).toBe(10);
        expect(await store.get('demo_tickets', { customer_id: 'b', ticket_id: '1' })).toBeUndefined();
        await expect(
          store.apply([
            { projection: 'demo', checkpoint: 11, changes: [upsertTicket(ticket('c9', 'x'))] },
            { projection: 'demo', checkpoint: 11, changes: [] },
          ]),
        ).rejects.toThrow(/not after the stored 11/);
        expect(await store.checkpoint('demo')).toBe(10);
        expect(await store.get('demo_tickets', { customer_id: 'c9', ticket_id: 'x' })).toBeUndefined();
      });

      it('serialises two instances applying the same projection: the stale checkpoint loses', async () => {
        await store.apply([{ projection: 'demo', checkpoint: 10, changes: [] }]);
        const other = await fx.reopen();
        try {
          const write = (s: ReadModelStore, status: string) =>
            s.apply([
              { projection: 'demo', checkpoint: 20, changes: [upsertTicket(ticket('c3', 't', { status }))] },
            ]);
          const results = await Promise.allSettled([write(store, 'a'), write(other, 'b')]);
          expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
          expect(await store.checkpoint('demo')).toBe(20);
          const winner = results[0].status === 'fulfilled' ? 'a' : 'b';
          expect(await store.get('demo_tickets', { customer_id: 'c3', ticket_id: 't' })).toMatchObject({
            status: winner,
          });
        } finally {
          await other.close();
        }
      });

      it('rolls back everything when a row breaks its table (NOT NULL), checkpoint included', async () => {
        await expect(
          store.apply([
            {
              projection: 'demo',
              checkpoint: 12,
              changes: [
                { op: 'upsert', table: 'demo_totals', row: { customer_id: 'c2', open_tickets: 5 } },
                {
                  op: 'upsert',
                  table: 'demo_tickets',
                  row: { customer_id: 'c2', ticket_id: 't', replies: 0 },
                },
              ],
            },
          ]),
        ).rejects.toThrow();
        expect(await store.checkpoint('demo')).toBe(0);
        expect(await store.get('demo_totals', { customer_id: 'c2' })).toBeUndefined();
      });

      it('refuses a table of another projection and an unknown projection', async () => {
        await expect(store.apply([{ projection: 'nope', checkpoint: 1, changes: [] }])).rejects.toThrow();
        await store.ensureProjection({
          name: 'other',
          version: 1,
          tables: [{ name: 'other_rows', primaryKey: ['id'], columns: [{ name: 'id', type: 'text' }] }],
        });
        await expect(
          store.apply([{ projection: 'other', checkpoint: 1, changes: [upsertTicket(ticket('a', '1'))] }]),
        ).rejects.toThrow();
        expect(await store.get('demo_tickets', { customer_id: 'a', ticket_id: '1' })).toBeUndefined();
      });

      it('re-applying the same rows at a later checkpoint is idempotent; the same positions twice are refused', async () => {
        const rows = manyTickets(12);
        const write = (checkpoint: number) => ({
          projection: 'demo',
          checkpoint,
          changes: rows.map(upsertTicket),
        });
        await store.apply([write(5)]);
        const first = await store.find('demo_tickets', []);
        await store.apply([write(6)]);
        expect(await store.find('demo_tickets', [])).toEqual(first);
        await expect(store.apply([write(6)])).rejects.toThrow(/twice/);
        expect(await store.find('demo_tickets', [])).toEqual(first);
        expect(first).toHaveLength(12);
      });

      it('survives reopening: rows, checkpoint and spec version are stored', async () => {
        await store.apply([{ projection: 'demo', checkpoint: 3, changes: [upsertTicket(ticket('a', '1'))] }]);
        const again = await fx.reopen();
        try {
          expect(await again.ensureProjection(demoSpec())).toEqual({ checkpoint: 3, versionChanged: false });
          expect(await again.ensureProjection(demoSpec(2))).toEqual({ checkpoint: 3, versionChanged: true });
          expect(await again.get('demo_tickets', { customer_id: 'a', ticket_id: '1' })).toEqual(
            ticket('a', '1'),
          );
        } finally {
          await again.close();
        }
      });
    });

    describe('checkpoint moves and held customers', () => {
      it('rejects the whole apply with CheckpointMoved when the stored checkpoint is not the expected one', async () => {
        await store.apply([
          { projection: 'demo', checkpoint: 10, changes: [upsertTicket(ticket('a', '1'))] },
        ]);
        const error = await rejection(
          store.apply([
            {
              projection: 'demo',
              checkpoint: 20,
              expectedCheckpoint: 7,
              changes: [upsertTicket(ticket('b', '1'))],
            },
          ]),
        );
        expect(isCheckpointMoved(error)).toBe(true);
        expect(error).toMatchObject({ name: 'CheckpointMoved', projection: 'demo', expected: 7, actual: 10 });
        expect((error as Error).message).toMatch(/expected 7/);
        expect(await store.get('demo_tickets', { customer_id: 'b', ticket_id: '1' })).toBeUndefined();
        await store.apply([
          {
            projection: 'demo',
            checkpoint: 20,
            expectedCheckpoint: 10,
            changes: [upsertTicket(ticket('b', '1'))],
          },
        ]);
        expect(await store.checkpoint('demo')).toBe(20);
      });

      it('a live runner whose checkpoint moved under it (a rebuild swapped in) gets CheckpointMoved', async () => {
        await store.apply([{ projection: 'demo', checkpoint: 10, changes: [] }]);
        const runnerBelieves = await store.checkpoint('demo');
        await store.beginRebuild(demoSpec());
        await store.apply([{ projection: 'demo', target: 'shadow', checkpoint: 15, changes: [] }]);
        await store.completeRebuild('demo');
        const error = await rejection(
          store.apply([
            {
              projection: 'demo',
              checkpoint: 11,
              expectedCheckpoint: runnerBelieves,
              changes: [upsertTicket(ticket('late', '1'))],
            },
          ]),
        );
        expect(isCheckpointMoved(error)).toBe(true);
        expect(error).toMatchObject({ expected: 10, actual: 15 });
        expect(await store.get('demo_tickets', { customer_id: 'late', ticket_id: '1' })).toBeUndefined();
      });

      it('held customers: a correction at the checkpoint it expects is written; without the expectation it is refused', async () => {
        await store.apply([
          {
            projection: 'demo',
            checkpoint: 8,
            changes: [{ op: 'upsert', table: 'demo_held', row: { customer_id: 'h', position: 6, retry: 0 } }],
          },
        ]);
        // A retry asked: rows change, no event applied, the checkpoint stays.
        await store.apply([
          {
            projection: 'demo',
            checkpoint: 8,
            expectedCheckpoint: 8,
            changes: [{ op: 'upsert', table: 'demo_held', row: { customer_id: 'h', position: 6, retry: 1 } }],
          },
        ]);
        expect(await store.get('demo_held', { customer_id: 'h' })).toEqual({
          customer_id: 'h',
          position: 6,
          retry: 1,
        });
        expect(await store.checkpoint('demo')).toBe(8);
        await expect(
          store.apply([
            {
              projection: 'demo',
              checkpoint: 8,
              changes: [{ op: 'delete', table: 'demo_held', key: { customer_id: 'h' } }],
            },
          ]),
        ).rejects.toThrow(/twice/);
        // Caught up: the held row goes, still at the same checkpoint.
        await store.apply([
          {
            projection: 'demo',
            checkpoint: 8,
            expectedCheckpoint: 8,
            changes: [{ op: 'delete', table: 'demo_held', key: { customer_id: 'h' } }],
          },
        ]);
        expect(await store.find('demo_held', [])).toEqual([]);
      });
    });

    describe('lists: filters, sorting, paging, cursors', () => {
      const rows = manyTickets(41);
      beforeEach(async () => {
        await store.apply([{ projection: 'demo', checkpoint: 40, changes: rows.map(upsertTicket) }]);
      });

      it('filters with every operator, ANDed; an empty IN matches nothing; unknown columns are refused', async () => {
        const cases: [Parameters<ReadModelStore['find']>[1], (r: Row) => boolean][] = [
          [[{ column: 'customer_id', op: 'eq', value: 'p1' }], (r) => r['customer_id'] === 'p1'],
          [[{ column: 'status', op: 'ne', value: 'open' }], () => false],
          [[{ column: 'replies', op: 'lt', value: 1 }], (r) => Number(r['replies']) < 1],
          [[{ column: 'replies', op: 'lte', value: 1 }], (r) => Number(r['replies']) <= 1],
          [
            [{ column: 'first_reply_hours', op: 'gt', value: 1.5 }],
            (r) => r['first_reply_hours'] !== null && Number(r['first_reply_hours']) > 1.5,
          ],
          [
            [{ column: 'opened_at', op: 'gte', value: '2025-01-05' }],
            (r) => String(r['opened_at']) >= '2025-01-05',
          ],
          [
            [{ column: 'priority', op: 'in', values: ['low', 'urgent'] }],
            (r) => r['priority'] === 'low' || r['priority'] === 'urgent',
          ],
          [[{ column: 'priority', op: 'in', values: [] }], () => false],
          [[{ column: 'priority', op: 'isNull' }], (r) => r['priority'] === null],
          [
            [
              { column: 'resolved_at', op: 'notNull' },
              { column: 'currency', op: 'eq', value: 'JPY' },
            ],
            (r) => r['resolved_at'] !== null && r['currency'] === 'JPY',
          ],
          [[{ column: 'breached', op: 'eq', value: 1 }], (r) => r['breached'] === 1],
          [
            [
              { column: 'one_touch', op: 'eq', value: 0 },
              { column: 'amount_minor', op: 'gte', value: 2500 },
            ],
            (r) => r['one_touch'] === 0 && Number(r['amount_minor']) >= 2500,
          ],
        ];
        for (const [where, keep] of cases) {
          const expected = sortedLikeList(rows.filter(keep), [], TICKET_KEY);
          expect(await pageAll(store, 'demo_tickets', { where, limit: 7 }), JSON.stringify(where)).toEqual(
            expected,
          );
          const found = await store.find('demo_tickets', where);
          expect(sortedLikeList(found, [], TICKET_KEY), JSON.stringify(where)).toEqual(expected);
        }
        await expect(
          store.list('demo_tickets', { where: [{ column: 'x; drop', op: 'eq', value: 1 }], limit: 1 }),
        ).rejects.toThrow(/column/);
        const error = await rejection(
          store.list('demo_tickets', { where: [{ column: 'nope', op: 'eq', value: 1 }], limit: 1 }),
        );
        expect(isInvalidCursor(error)).toBe(false);
      });

      const sorts: Sort[][] = [
        [],
        [{ column: 'priority', direction: 'asc' }],
        [
          { column: 'priority', direction: 'desc' },
          { column: 'replies', direction: 'desc' },
        ],
        [
          { column: 'replies', direction: 'asc' },
          { column: 'first_reply_hours', direction: 'desc' },
        ],
        [{ column: 'opened_at', direction: 'desc' }],
        [
          { column: 'resolved_at', direction: 'asc' },
          { column: 'currency', direction: 'desc' },
        ],
        [
          { column: 'breached', direction: 'desc' },
          { column: 'amount_minor', direction: 'asc' },
        ],
        [{ column: 'ticket_id', direction: 'desc' }],
      ];
      it.each(sorts.map((s) => [s.map((x) => `${x.column} ${x.direction}`).join(', ') || 'key', s] as const))(
        'sorted by %s (ties broken by the key, NULLs first ascending and last descending): every page, every row once',
        async (_label, orderBy) => {
          for (const limit of [1, 4, 41, 100]) {
            const seen = await pageAll(store, 'demo_tickets', { orderBy, limit });
            expect(seen).toEqual(sortedLikeList(rows, orderBy, TICKET_KEY));
          }
        },
      );

      it('pages stay stable while rows are written between them: no row seen twice, none of the old ones missed', async () => {
        const orderBy: Sort[] = [{ column: 'replies', direction: 'asc' }];
        let checkpoint = 40;
        const added: Row[] = [];
        const seen = await pageAll(store, 'demo_tickets', { orderBy, limit: 5 }, async (page) => {
          const extra = ticket(`p${page % 4}`, `new${page}`, { replies: page % 3 });
          added.push(extra);
          await store.apply([
            { projection: 'demo', checkpoint: ++checkpoint, changes: [upsertTicket(extra)] },
          ]);
        });
        const keys = seen.map((r) => `${String(r['customer_id'])}/${String(r['ticket_id'])}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const r of rows) expect(keys).toContain(`${String(r['customer_id'])}/${String(r['ticket_id'])}`);
        expect(seen).toEqual(sortedLikeList(seen, orderBy, TICKET_KEY));
        expect(added.length).toBeGreaterThan(0);
      });

      it('clamps the page size to at least one row', async () => {
        expect((await store.list('demo_tickets', { limit: 0 })).rows).toHaveLength(1);
        expect((await store.list('demo_tickets', { limit: -5 })).rows).toHaveLength(1);
      });

      it('refuses hostile cursors with InvalidCursor: garbage, truncated, wrong types, extra fields, another sort or table', async () => {
        const orderBy: Sort[] = [{ column: 'priority', direction: 'desc' }];
        const first = await store.list('demo_tickets', { orderBy, limit: 3 });
        const good = first.nextCursor!;
        expect(good).toBeDefined();
        const sort = listSortKey('demo_tickets', [
          ...orderBy,
          { column: 'customer_id', direction: 'asc' },
          { column: 'ticket_id', direction: 'asc' },
        ]);
        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        const decoded = JSON.parse(Buffer.from(good, 'base64url').toString('utf8')) as {
          s: string;
          k: unknown[];
        };
        expect(decoded.s).toBe(sort);
        const hostile: [string, string][] = [
          ['garbage', 'garbage'],
          ['not base64', '%%%'],
          ['nope', 'bm9wZQ'],
          ['empty', ''],
          ['truncated', good.slice(0, -3)],
          ['truncated to half', good.slice(0, Math.floor(good.length / 2))],
          ['a value of another type', b64({ s: sort, k: [{ $gt: 1 }, 'p0', 't'] })],
          ['a boolean value', b64({ s: sort, k: [true, 'p0', 't'] })],
          ['too few values', b64({ s: sort, k: ['low', 'p0'] })],
          ['too many values', b64({ s: sort, k: ['low', 'p0', 't', 'x'] })],
          ['extra fields', b64({ ...decoded, admin: true })],
          ['the old array format', b64(decoded.k)],
          ['a JSON string', b64('x')],
          ['JSON null', b64(null)],
          [
            'another sort',
            encodeCursor(
              listSortKey('demo_tickets', [
                { column: 'priority', direction: 'asc' },
                { column: 'customer_id', direction: 'asc' },
                { column: 'ticket_id', direction: 'asc' },
              ]),
              decoded.k as never,
            ),
          ],
          [
            'another table',
            encodeCursor(listSortKey('demo_totals', [{ column: 'customer_id', direction: 'asc' }]), ['p0']),
          ],
          ['very long', 'A'.repeat(10_000)],
        ];
        for (const [what, cursor] of hostile) {
          const error = await rejection(store.list('demo_tickets', { orderBy, limit: 3, cursor }));
          expect(isInvalidCursor(error), `${what}: ${String(error)}`).toBe(true);
        }
        // A cursor of another sort is refused even when its values would fit.
        const other = await store.list('demo_tickets', {
          orderBy: [{ column: 'replies', direction: 'asc' }],
          limit: 3,
        });
        expect(
          isInvalidCursor(
            await rejection(store.list('demo_tickets', { orderBy, limit: 3, cursor: other.nextCursor! })),
          ),
        ).toBe(true);
        // The genuine cursor still works.
        expect((await store.list('demo_tickets', { orderBy, limit: 3, cursor: good })).rows).toHaveLength(3);
      });

      it('aggregates: grouped count, sum, avg, min, max with filters, ordered by the groups; numbers as numbers', async () => {
        const result = await store.aggregate('demo_tickets', {
          where: [{ column: 'customer_id', op: 'in', values: ['p0', 'p1', 'p2'] }],
          groupBy: ['customer_id', 'currency'],
          measures: [
            { as: 'n', fn: 'count' },
            { as: 'total_minor', fn: 'sum', column: 'amount_minor' },
            { as: 'avg_replies', fn: 'avg', column: 'replies' },
            { as: 'min_replies', fn: 'min', column: 'replies' },
            { as: 'max_replies', fn: 'max', column: 'replies' },
            { as: 'with_priority', fn: 'count', column: 'priority' },
          ],
        });
        const groups = new Map<string, Row[]>();
        for (const r of rows)
          if (r['customer_id'] !== 'p3') {
            const k = `${String(r['customer_id'])}|${String(r['currency'])}`;
            groups.set(k, [...(groups.get(k) ?? []), r]);
          }
        const expected = [...groups.keys()].sort().map((k) => {
          const g = groups.get(k)!;
          const replies = g.map((r) => Number(r['replies']));
          return {
            customer_id: k.split('|')[0],
            currency: k.split('|')[1],
            n: g.length,
            total_minor: g.reduce((s, r) => s + Number(r['amount_minor']), 0),
            avg_replies: Number((replies.reduce((a, b) => a + b, 0) / g.length).toFixed(9)),
            min_replies: Math.min(...replies),
            max_replies: Math.max(...replies),
            with_priority: g.filter((r) => r['priority'] !== null).length,
          };
        });
        expect(
          result.map((r) => ({ ...r, avg_replies: Number(Number(r['avg_replies']).toFixed(9)) })),
        ).toEqual(expected);
        for (const r of result) expect(typeof r['total_minor']).toBe('number');
      });
    });

    describe('rebuilds', () => {
      it('rebuilds into shadow tables while live ones are served, then swaps them in atomically', async () => {
        await store.apply([
          { projection: 'demo', checkpoint: 5, changes: [upsertTicket(ticket('old', '1'))] },
        ]);
        await store.beginRebuild(demoSpec(2));
        expect(await store.rebuildInProgress('demo')).toBe(true);
        expect(await store.checkpoint('demo', 'shadow')).toBe(0);
        await store.apply([
          {
            projection: 'demo',
            target: 'shadow',
            checkpoint: 4,
            changes: [upsertTicket(ticket('new', '1', { replies: 2 }))],
          },
        ]);
        expect(await store.find('demo_tickets', [], 'shadow')).toEqual([ticket('new', '1', { replies: 2 })]);
        // Live is untouched while the rebuild runs.
        expect(await store.get('demo_tickets', { customer_id: 'new', ticket_id: '1' })).toBeUndefined();
        expect(await store.find('demo_tickets', [])).toEqual([ticket('old', '1')]);
        expect(await store.checkpoint('demo')).toBe(5);
        expect(await store.checkpoint('demo', 'shadow')).toBe(4);
        // Another store instance (another process) sees the rebuild in progress.
        const other = await fx.reopen();
        try {
          expect(await other.rebuildInProgress('demo')).toBe(true);
        } finally {
          await other.close();
        }
        await store.completeRebuild('demo');
        expect(await store.rebuildInProgress('demo')).toBe(false);
        expect(await store.checkpoint('demo')).toBe(4);
        expect(await store.get('demo_tickets', { customer_id: 'old', ticket_id: '1' })).toBeUndefined();
        expect(await store.find('demo_tickets', [])).toEqual([ticket('new', '1', { replies: 2 })]);
        expect(await store.list('demo_totals', { limit: 10 })).toEqual({ rows: [] });
        // The swapped-in spec version is the live one now; its lists and indexes work.
        expect(await store.ensureProjection(demoSpec(2))).toEqual({ checkpoint: 4, versionChanged: false });
        expect(
          (
            await store.list('demo_tickets', {
              where: [{ column: 'status', op: 'eq', value: 'open' }],
              limit: 5,
            })
          ).rows,
        ).toHaveLength(1);
        // A second rebuild works as well (index names do not collide).
        await store.beginRebuild(demoSpec(2));
        await store.completeRebuild('demo');
        expect(await store.find('demo_tickets', [])).toEqual([]);
      });

      it('a restarted rebuild drops what the previous attempt wrote; an aborted one leaves live as it was', async () => {
        await store.apply([
          { projection: 'demo', checkpoint: 30, changes: [upsertTicket(ticket('live', '1'))] },
        ]);
        await store.beginRebuild(demoSpec());
        await store.apply([
          {
            projection: 'demo',
            target: 'shadow',
            checkpoint: 25,
            changes: [upsertTicket(ticket('r1', '1'))],
          },
        ]);
        await store.beginRebuild(demoSpec());
        expect(await store.find('demo_tickets', [], 'shadow')).toEqual([]);
        expect(await store.checkpoint('demo', 'shadow')).toBe(0);
        await store.apply([
          { projection: 'demo', target: 'shadow', checkpoint: 1, changes: [upsertTicket(ticket('r2', '1'))] },
        ]);
        await store.abortRebuild('demo');
        expect(await store.rebuildInProgress('demo')).toBe(false);
        expect(await store.checkpoint('demo')).toBe(30);
        expect(await store.find('demo_tickets', [])).toEqual([ticket('live', '1')]);
        await expect(store.completeRebuild('demo')).rejects.toThrow(/no rebuild/);
        await expect(
          store.apply([{ projection: 'demo', target: 'shadow', checkpoint: 2, changes: [] }]),
        ).rejects.toThrow();
      });
    });

    describe('free SQL', () => {
      it('runs read-only text with ? parameters, and refuses writes', async () => {
        await store.apply([
          { projection: 'demo', checkpoint: 1, changes: manyTickets(20).map(upsertTicket) },
        ]);
        const text =
          "SELECT customer_id, COUNT(*) AS n, 'why?' AS literal FROM demo_tickets WHERE replies >= ? GROUP BY customer_id HAVING COUNT(*) > ? ORDER BY customer_id";
        const rows = await store.sql({ sqlite: text, postgres: text }, [1, 2]);
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((r) => r['literal'] === 'why?' && typeof r['n'] === 'number')).toBe(true);
        // Times and flags read the same in both dialects: ISO literals, julianday(), flags as conditions, and
        // cells come back as the port's (ISO-8601 UTC text with milliseconds, 1/0).
        const typed =
          "SELECT ticket_id, opened_at, breached, one_touch, ROUND(CAST(julianday('2025-02-01') - julianday(opened_at) AS NUMERIC), 2) AS age_days FROM demo_tickets WHERE one_touch AND opened_at >= '2025-01-03' AND (breached OR breached IS NULL) ORDER BY ticket_id";
        const expected = manyTickets(20)
          .filter(
            (r) => r['one_touch'] === 1 && String(r['opened_at']) >= '2025-01-03' && r['breached'] !== 0,
          )
          .map((r) => ({
            ticket_id: r['ticket_id'],
            opened_at: r['opened_at'],
            breached: r['breached'],
            one_touch: 1,
            age_days:
              Math.round(
                ((Date.parse('2025-02-01') - Date.parse(String(r['opened_at']))) / 86_400_000) * 100,
              ) / 100,
          }))
          .sort((a, b) => compareCells(a.ticket_id, b.ticket_id));
        expect(expected.length).toBeGreaterThan(0);
        const typedRows = await store.sql({ sqlite: typed, postgres: typed });
        expect(typedRows.map((r) => ({ ...r, age_days: Number(r['age_days']) }))).toEqual(expected);
        const write = "DELETE FROM demo_tickets WHERE customer_id = 'p0'";
        await expect(store.sql({ sqlite: write, postgres: write })).rejects.toThrow(/read-only/);
        expect(
          await store.find('demo_tickets', [{ column: 'customer_id', op: 'eq', value: 'p0' }]),
        ).toHaveLength(5);
      });
    });
  });

  describe(`read-model conformance: ${name}: the SQL examples of docs/read-models.md`, () => {
    const queries = documentedQueries();
    let fx: ReadModelFixture;
    beforeAll(async () => {
      fx = await factory();
      await seedViews(fx.store);
    }, 240_000);
    afterAll(async () => {
      await fx?.cleanup();
    });

    it('has example queries', () => {
      expect(queries.length).toBeGreaterThanOrEqual(15);
    });

    it.each(queries.map((q, i) => [i + 1, q] as const))(
      'example query %i runs as written and returns rows',
      async (_i, q) => {
        const rows = await fx.store.sql({ sqlite: q, postgres: q });
        expect(rows.length).toBeGreaterThan(0);
      },
    );
  });
}
