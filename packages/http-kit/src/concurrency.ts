import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export interface ConcurrencyLimits {
  /** Most requests of one API key in flight at once on the limited routes (429 above). 0: no limit. */
  readonly perKey: number;
  /** Most such requests in flight at once over every key (429 above). 0: no limit. */
  readonly total: number;
}

/**
 * An `onRequest` hook (after `requireScope`) bounding the concurrency of expensive routes (the 360, time travel,
 * lists, aggregates): a key with `perKey` requests in flight, or a process with `total`, gets 429 at once
 * (`Retry-After: 1`) instead of queueing more work behind the event loop. The rate limit counts requests; this
 * counts work in progress, so a few heavy requests cannot stall `/health` or other keys. A slot is freed when
 * the answer is sent or the client goes away.
 */
export function limitConcurrency(limits: ConcurrencyLimits) {
  const inFlight = new Map<string, number>();
  let total = 0;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const key = req.apiKeyId;
    if (key === undefined) return;
    const mine = inFlight.get(key) ?? 0;
    const overKey = limits.perKey > 0 && mine >= limits.perKey;
    if (overKey || (limits.total > 0 && total >= limits.total)) {
      void reply.header('retry-after', '1');
      await sendError(
        reply,
        429,
        'rate_limited',
        overKey
          ? `at most ${limits.perKey} requests of this API key may run at once on this route; retry after 1 s`
          : `the server runs ${limits.total} such requests already; retry after 1 s`,
      );
      return;
    }
    inFlight.set(key, mine + 1);
    total += 1;
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      total -= 1;
      const left = (inFlight.get(key) ?? 1) - 1;
      if (left <= 0) inFlight.delete(key);
      else inFlight.set(key, left);
    });
  };
}
