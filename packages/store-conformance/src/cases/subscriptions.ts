import type { StoredEvent } from '@crm-ledger/core';
import { describe, expect, it } from 'vitest';
import { aCustomer, readEverything, someEvents, within } from '../fixtures.js';
import { WAIT_MS, type Harness } from '../harness.js';

export function subscriptionsCases(h: Harness): void {
  describe('subscriptions', () => {
    it('catches up on stored events, reports it, then delivers new appends live until aborted', async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 30));
      const abort = new AbortController();
      const caughtUp: number[] = [];
      const seen: StoredEvent[] = [];
      let live: Promise<unknown> | undefined;
      const loop = (async () => {
        for await (const page of h.store.subscribe({
          batchSize: 8,
          signal: abort.signal,
          onCaughtUp: (position) => {
            caughtUp.push(position);
            live ??= (async () => {
              for (let i = 0; i < 5; i++) await h.append(stream, someEvents(customerId, 2));
            })();
          },
        })) {
          for (const page8 of [page]) expect(page8.length).toBeLessThanOrEqual(8);
          seen.push(...page);
          if (seen.length >= 40) abort.abort();
        }
      })();
      await within(loop, WAIT_MS, 'subscription catch-up then live');
      await live;
      const all = await readEverything(h.store);
      expect(all).toHaveLength(40);
      expect(seen).toEqual(all);
      expect(caughtUp[0]).toBe(all[29]!.globalPosition);
    });

    it('starts after a checkpoint and ends when aborted while waiting', async () => {
      const { customerId, stream } = aCustomer();
      const r = await h.append(stream, someEvents(customerId, 10));
      const abort = new AbortController();
      const seen: StoredEvent[] = [];
      let caught = 0;
      const loop = (async () => {
        for await (const page of h.store.subscribe({
          after: r.positions[5]!,
          signal: abort.signal,
          onCaughtUp: (position) => {
            caught = position;
            setTimeout(() => abort.abort(), 20);
          },
        })) {
          seen.push(...page);
        }
      })();
      await within(loop, WAIT_MS, 'subscription ends on abort');
      expect(seen.map((s) => s.globalPosition)).toEqual(r.positions.slice(6));
      expect(caught).toBe(r.positions[9]);
    });

    it('an already aborted signal ends the subscription at once', async () => {
      const { customerId, stream } = aCustomer();
      await h.append(stream, someEvents(customerId, 3));
      const abort = new AbortController();
      abort.abort();
      const seen: StoredEvent[] = [];
      await within(
        (async () => {
          for await (const page of h.store.subscribe({ signal: abort.signal })) seen.push(...page);
        })(),
        WAIT_MS,
        'aborted subscription',
      );
      expect(seen.length).toBeLessThanOrEqual(3);
    });

    it('a subscription on one instance sees appends made through another instance', async (ctx) => {
      const other = await h.second();
      if (other === undefined) return ctx.skip();
      const { customerId, stream } = aCustomer();
      const abort = new AbortController();
      const seen: StoredEvent[] = [];
      let started = false;
      const loop = (async () => {
        for await (const page of h.store.subscribe({
          signal: abort.signal,
          onCaughtUp: () => {
            if (started) return;
            started = true;
            void other.append(stream, someEvents(customerId, 3));
          },
        })) {
          seen.push(...page);
          if (seen.length >= 3) abort.abort();
        }
      })();
      await within(loop, WAIT_MS, 'subscription across instances');
      expect(seen.map((s) => s.revision)).toEqual([0, 1, 2]);
    });
  });
}
