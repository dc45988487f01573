import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { DEFAULT_DIGEST_EVERY, LedgerNotary } from '@crm-ledger/audit';
import { loadConfig } from '@crm-ledger/config';
import type { DigestStore } from '@crm-ledger/core';
import type { LedgerComponent } from '@crm-ledger/runtime';

/** Settings of the notary, from the environment. */
export const NotaryEnv = z.object({
  CRM_LEDGER_DIGEST_EVERY: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number of events from 1 to 10000000')
    .transform(Number)
    .pipe(z.int().min(1).max(10_000_000, 'must be a whole number of events from 1 to 10000000'))
    .default(DEFAULT_DIGEST_EVERY)
    .describe('Events per digest of the global log recorded by the notary of `crm-ledger start`'),
});

/** Reads the notary settings; throws one line per wrong variable. */
export function notaryEnv(env: Record<string, string | undefined>): z.output<typeof NotaryEnv> {
  const r = loadConfig(NotaryEnv, env);
  if (E.isLeft(r)) throw new Error(`invalid configuration:\n  ${r.left.join('\n  ')}`);
  return r.right;
}

/**
 * The notary as a part of `crm-ledger start`: catches up at start (every event covered), then records a
 * digest of the global log every CRM_LEDGER_DIGEST_EVERY events (default 10,000) and covers the tail every
 * minute, into the digest store `openDigests` gives (the ledger file's `ledger_digests` table for SQLite). `crm-ledger verify` re-checks them.
 */
export const notaryComponent = (openDigests: (dataDir: string) => DigestStore): LedgerComponent => ({
  name: 'notary',
  start(ctx) {
    const { CRM_LEDGER_DIGEST_EVERY: every } = notaryEnv(process.env);
    const digests = openDigests(ctx.dataDir);
    const log = ctx.logger.child({ component: 'notary' });
    const notary = new LedgerNotary({ store: ctx.store, digests, every, clock: ctx.clock });
    const stopping = new AbortController();
    const onAbort = () => stopping.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const running = notary.run({
      signal: stopping.signal,
      onDigests: (recorded) => {
        const last = recorded[recorded.length - 1]!;
        log.info(
          { digests: recorded.length, number: last.number, position: last.position, count: last.count },
          'digests of the global log recorded',
        );
      },
      onError: (err) => log.error({ err }, 'the notary could not record a digest; trying again'),
    });
    return Promise.resolve({
      description: `a digest of the global log every ${every.toLocaleString('en-US')} events and each minute (crm-ledger verify)`,
      stop: async () => {
        ctx.signal.removeEventListener('abort', onAbort);
        stopping.abort();
        await running;
        await digests.close();
      },
    });
  },
});
