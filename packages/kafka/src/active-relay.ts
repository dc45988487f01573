import { setTimeout as sleep } from 'node:timers/promises';
import * as E from 'fp-ts/lib/Either.js';
import { runRelay, type RelayFailure, type RelayOptions, type RelayStopped } from './relay.js';

export interface ActiveRelayOptions extends RelayOptions {
  /** How often a standby tries the lock, default 1,000 ms. */
  readonly standbyRetryMs?: number;
  /** Told when this process becomes a standby (another relay holds the lock) and when it becomes active. */
  readonly onRole?: (role: 'standby' | 'active') => void;
}

/**
 * One active relay per checkpoint name: the relay runs only while it holds the checkpoint store's lock
 * (`CheckpointStore.tryLock`: SQLite's file lock, or a PostgreSQL advisory lock). A second relay started on the same
 * checkpoint waits as a standby, trying every `standbyRetryMs`, and takes over from the stored checkpoint when the
 * first one dies; it never publishes in parallel. A relay that loses its lock (its database session died) stops
 * after the send in progress and becomes a standby again. A store that cannot lock runs the relay directly.
 */
export async function runActiveRelay(
  options: ActiveRelayOptions,
): Promise<E.Either<RelayFailure, RelayStopped>> {
  const { checkpoints, signal, logger } = options;
  if (checkpoints.tryLock === undefined) return runRelay(options);
  const retryMs = options.standbyRetryMs ?? 1_000;
  let standby = false;
  let published = 0;
  while (signal?.aborted !== true) {
    let lock;
    try {
      lock = await checkpoints.tryLock(options.name);
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      return E.left({
        type: 'CheckpointFailed',
        position: 0,
        message: `cannot take the relay lock: ${message}`,
        cause,
      });
    }
    if (lock === undefined) {
      if (!standby) {
        standby = true;
        logger.info({ checkpoint: options.name }, 'standby: another relay is active on this checkpoint');
        options.onRole?.('standby');
      }
      await sleep(retryMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      continue;
    }
    standby = false;
    logger.info({ checkpoint: options.name }, 'active: this relay holds the lock');
    options.onRole?.('active');
    const stop = signal === undefined ? lock.lost : AbortSignal.any([signal, lock.lost]);
    try {
      const result = await runRelay({ ...options, signal: stop });
      if (E.isLeft(result) || !lock.lost.aborted) {
        return E.map((r: RelayStopped) => ({ ...r, published: published + r.published }))(result);
      }
      published += result.right.published;
      logger.warn({ checkpoint: options.name }, 'lost the relay lock: back to standby');
    } finally {
      await lock.release();
    }
  }
  return E.right({ position: await checkpoints.load(options.name), published });
}
