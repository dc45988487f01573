import { describe, expect, it } from 'vitest';
import { backoffDelay, isTransientError, retryForever, StatusBoard } from './resilience.js';

const pgError = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('isTransientError', () => {
  it('retries the network, server restarts, failovers, locks and busy databases', () => {
    for (const e of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection terminated unexpectedly'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('25006', 'cannot execute UPDATE in a read-only transaction'),
      pgError('55P03', 'canceling statement due to lock timeout'),
      pgError('40P01', 'deadlock detected'),
      pgError('08006'),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
      Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError', retriable: true }),
      new Error('wrapped', { cause: pgError('57P03', 'the database system is starting up') }),
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect'),
    ])
      expect(isTransientError(e), String(e)).toBe(true);
  });

  it('does not retry bugs and permanent errors', () => {
    for (const e of [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      pgError('42P01', 'relation "service_tickets" does not exist'),
      pgError('23505', 'duplicate key value violates unique constraint'),
      new Error('apply: unknown projection sales'),
      'a string',
      undefined,
    ])
      expect(isTransientError(e), String(e)).toBe(false);
  });
});

describe('retryForever', () => {
  it('retries transient failures with capped, growing, jittered delays and reports them on the board', async () => {
    const board = new StatusBoard();
    const delays: number[] = [];
    const seen: string[] = [];
    const result = await retryForever(
      ({ attempt }) => {
        seen.push(board.get('p')!.state);
        if (attempt <= 6)
          return Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
        return Promise.resolve('done');
      },
      {
        name: 'p',
        signal: new AbortController().signal,
        status: board,
        initialDelayMs: 1,
        maxDelayMs: 8,
        random: () => 1,
        onRetry: (_e, _n, d) => delays.push(d),
      },
    );
    expect(result).toBe('done');
    expect(delays).toEqual([1, 2, 4, 8, 8, 8]);
    expect(seen.slice(1)).toEqual(Array(6).fill('retrying'));
    const h = board.get('p');
    expect(h).toMatchObject({ state: 'retrying', attempts: 6, lastError: 'Error: refused' });
    expect(board.problems().retrying[0]).toMatch(
      /^p: retrying since .* \(6 attempts\), last error: Error: refused$/,
    );
  });

  it('healthy() starts the backoff over and shows the component running', async () => {
    const board = new StatusBoard();
    const delays: number[] = [];
    await retryForever(
      ({ attempt, healthy }) => {
        if (attempt === 3) healthy();
        if (attempt < 5) return Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
        expect(board.get('p')!.state).toBe('retrying');
        return Promise.resolve();
      },
      {
        name: 'p',
        signal: new AbortController().signal,
        status: board,
        initialDelayMs: 1,
        maxDelayMs: 100,
        random: () => 1,
        onRetry: (_e, _n, d) => delays.push(d),
      },
    );
    expect(delays).toEqual([1, 2, 1, 2]);
  });

  it('stops on a permanent error, rethrows it and marks the component failed', async () => {
    const board = new StatusBoard();
    const bug = new TypeError('x is undefined');
    await expect(
      retryForever(() => Promise.reject(bug), {
        name: 'p',
        signal: new AbortController().signal,
        status: board,
      }),
    ).rejects.toBe(bug);
    expect(board.get('p')).toMatchObject({ state: 'failed', error: 'TypeError: x is undefined' });
    expect(board.problems().failed).toHaveLength(1);
  });

  it('ends when aborted, even while waiting', async () => {
    const abort = new AbortController();
    const run = retryForever(() => Promise.reject(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })), {
      name: 'p',
      signal: abort.signal,
      initialDelayMs: 60_000,
    });
    setTimeout(() => abort.abort(), 20);
    expect(await run).toBeUndefined();
  });

  it('full jitter stays within [cap/2, cap]', () => {
    for (let n = 1; n < 40; n++) {
      const lo = backoffDelay(n, 100, 10_000, () => 0);
      const hi = backoffDelay(n, 100, 10_000, () => 0.999999);
      expect(lo).toBe(Math.min(10_000, 100 * 2 ** (n - 1)) / 2);
      expect(hi).toBeLessThanOrEqual(10_000);
    }
  });
});
