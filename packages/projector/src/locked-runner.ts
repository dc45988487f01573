import { setTimeout as sleep } from 'node:timers/promises';
import type { ProjectionLock, ReadModelStore } from '@crm-ledger/core';
import type { ProjectionName } from '@crm-ledger/projections';

export interface LockedRunOptions {
  readonly readModel: ReadModelStore;
  readonly projections: readonly ProjectionName[];
  /** How often a standby (or a holder of only some projections) tries the locks it lacks (default 2,000 ms). */
  readonly retryMs?: number;
  /**
   * Runs the given projections until `signal` aborts (then resolves). Called again with a new set whenever
   * the held locks change.
   */
  readonly run: (projections: readonly ProjectionName[], signal: AbortSignal) => Promise<void>;
  /** Told after every successful attempt at the locks (the database answers: the runner is healthy). */
  readonly onAttempt?: () => void;
  /** Told the projections this process now runs, and the ones it waits for as a standby. */
  readonly onLocks?: (held: readonly ProjectionName[], standby: readonly ProjectionName[]) => void;
}

/**
 * Runs each projection only while holding its lock (`ReadModelStore.tryLockProjection`, PostgreSQL advisory
 * locks), so several projector processes on one read model share the projections without fighting: each
 * projection has one runner at a time; a process that gets no lock waits as a hot standby and retries every
 * `retryMs`; when a holder dies its locks are freed and a standby takes the projections over from their
 * stored checkpoints. A lock lost while running (its session died) stops those projections at once.
 * A store without locks (SQLite) runs every projection directly. A failure to reach the database (taking a lock,
 * or inside `run`) rejects, after giving back every lock held: the caller retries (`retryForever`), so a
 * transient outage never leaves the process running without its views.
 */
export async function runWithProjectionLocks(options: LockedRunOptions, signal: AbortSignal): Promise<void> {
  const { readModel, projections } = options;
  if (readModel.tryLockProjection === undefined) return options.run(projections, signal);
  const tryLock = readModel.tryLockProjection.bind(readModel);
  const retryMs = options.retryMs ?? 2_000;
  const held = new Map<ProjectionName, ProjectionLock>();
  let inFlight: Promise<boolean> = Promise.resolve(false);
  // One attempt at a time (the retry timer and the loop may both try): a lock is never taken twice.
  const acquire = (): Promise<boolean> => (inFlight = inFlight.catch(() => false).then(acquireNow));
  const acquireNow = async (): Promise<boolean> => {
    let gained = false;
    for (const name of projections) {
      if (held.has(name)) continue;
      const lock = await tryLock(name);
      if (lock !== undefined) {
        held.set(name, lock);
        gained = true;
      }
    }
    options.onAttempt?.();
    return gained;
  };
  const running = (): ProjectionName[] => projections.filter((p) => held.has(p));
  try {
    let gained = true;
    while (!signal.aborted) {
      for (const [name, lock] of held) if (lock.lost.aborted) held.delete(name);
      gained = (await acquire()) || gained;
      if (gained) {
        options.onLocks?.(
          running(),
          projections.filter((p) => !held.has(p)),
        );
        gained = false;
      }
      if (held.size === 0) {
        await sleep(retryMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      const inner = new AbortController();
      const stop = (): void => inner.abort();
      const listened = [signal, ...[...held.values()].map((l) => l.lost)];
      for (const s of listened) s.addEventListener('abort', stop);
      // A holder of some projections keeps trying the others; a new lock restarts the run with it included.
      const retry =
        held.size < projections.length
          ? setInterval(() => {
              acquire().then(
                (got) => {
                  if (got) {
                    gained = true;
                    stop();
                  }
                },
                () => undefined, // the database is unreachable: the running projections notice it themselves
              );
            }, retryMs)
          : undefined;
      try {
        await options.run(running(), inner.signal);
      } finally {
        if (retry !== undefined) clearInterval(retry);
        for (const s of listened) s.removeEventListener('abort', stop);
      }
      const lostAny = [...held.values()].some((l) => l.lost.aborted);
      if (lostAny) {
        for (const [name, lock] of held) if (lock.lost.aborted) held.delete(name);
        options.onLocks?.(
          running(),
          projections.filter((p) => !held.has(p)),
        );
      }
    }
  } finally {
    await Promise.all([...held.values()].map((l) => l.release().catch(() => undefined)));
  }
}
