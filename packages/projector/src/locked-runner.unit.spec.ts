import { describe, expect, it } from 'vitest';
import { retryForever, type ProjectionLock, type ReadModelStore } from '@crm-ledger/core';
import { runWithProjectionLocks } from './locked-runner.js';

// Issue 23: a failed attempt at the locks (the database unreachable) ended the runner for good (an unguarded
// `await acquire()`). Now it rejects after giving back the locks it held, and `retryForever` around it (as in
// the projector component) starts over until the database answers. The lock source here is a stand-in for
// the PostgreSQL advisory locks (their behaviour is proved in packages/postgres and the failover specs).
describe('runWithProjectionLocks under transient failures', () => {
  it('rejects when taking a lock fails, releases what it held, and runs again under retryForever', async () => {
    let failures = 2;
    const released: string[] = [];
    const ran: string[][] = [];
    const abort = new AbortController();
    const readModel = {
      tryLockProjection: (projection: string): Promise<ProjectionLock | undefined> => {
        if (projection === 'success' && failures > 0) {
          failures--;
          return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
        }
        return Promise.resolve({
          projection,
          lost: new AbortController().signal,
          release: () => {
            released.push(projection);
            return Promise.resolve();
          },
        });
      },
    } as unknown as ReadModelStore;
    const attempts: number[] = [];
    await retryForever(
      ({ attempt }) => {
        attempts.push(attempt);
        return runWithProjectionLocks(
          {
            readModel,
            projections: ['service', 'success'],
            retryMs: 5,
            run: (names) => {
              ran.push([...names]);
              abort.abort();
              return Promise.resolve();
            },
          },
          abort.signal,
        );
      },
      { name: 'projector', signal: abort.signal, initialDelayMs: 1, maxDelayMs: 2 },
    );
    expect(attempts).toEqual([1, 2, 3]);
    // 'service' was taken and given back after each failed attempt at 'success'.
    expect(released).toEqual(['service', 'service', 'service', 'success']);
    expect(ran).toEqual([['service', 'success']]);
  });
});
