import { DEFAULT_DIGEST_EVERY, LedgerNotary } from '@crm-ledger/audit';
import type { DigestStore } from '@crm-ledger/core';
import type { LedgerComponent } from '../component.js';

/** Told to the notary's retry loop when another notary recorded the digest this one was about to. */
class DigestRecordedElsewhere extends Error {
  override readonly name = 'DigestRecordedElsewhere';
  /** Transient (`isTransientError`): the next round starts from the digest the other notary recorded. */
  readonly retriable = true;
}

/**
 * A digest store several notaries may share (the standalone projector scaled out: each replica runs one):
 * when a digest cannot be recorded because another notary recorded that number first, the round ends as a
 * transient failure and the next round folds on from the other notary's digest, instead of stopping for good.
 */
export function sharedDigestStore(digests: DigestStore): DigestStore {
  return {
    last: () => digests.last(),
    all: () => digests.all(),
    close: () => digests.close(),
    async record(digest) {
      try {
        await digests.record(digest);
      } catch (err) {
        const last = await digests.last();
        if (last === undefined || last.number < digest.number) throw err;
        throw new DigestRecordedElsewhere(
          `digest ${digest.number} was recorded by another notary: going on from it`,
          { cause: err },
        );
      }
    },
  };
}

/**
 * The notary as a part of a ledger process (`crm-ledger start`, the standalone projector): catches up at start
 * (every event covered), then records a digest of the global log every CRM_LEDGER_DIGEST_EVERY events (default
 * 10,000) and covers the tail every minute, into the digest store `openDigests` gives (the ledger file's
 * `ledger_digests` table for SQLite). `crm-ledger verify` re-checks them.
 */
export const notaryComponent = (
  openDigests: (dataDir: string) => DigestStore,
  every: number = DEFAULT_DIGEST_EVERY,
): LedgerComponent => ({
  name: 'notary',
  start(ctx) {
    const digests = sharedDigestStore(openDigests(ctx.dataDir));
    const log = ctx.logger.child({ component: 'notary' });
    const notary = new LedgerNotary({ store: ctx.store, digests, every, clock: ctx.clock });
    const stopping = new AbortController();
    const onAbort = () => stopping.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const running = notary
      .run({
        signal: stopping.signal,
        onDigests: (recorded) => {
          const last = recorded[recorded.length - 1]!;
          log.info(
            { digests: recorded.length, number: last.number, position: last.position, count: last.count },
            'digests of the global log recorded',
          );
        },
        onError: (err) => log.warn({ err }, 'the notary could not record a digest; trying again'),
        status: ctx.status,
      })
      .catch((err: unknown) => log.error({ err }, 'the notary stopped: a permanent error (see /status)'));
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
