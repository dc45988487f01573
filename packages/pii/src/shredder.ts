import * as E from 'fp-ts/lib/Either.js';
import {
  retryForever,
  type EventStore,
  type GlobalPosition,
  type Logger,
  type StatusBoard,
  type StoredEvent,
} from '@crm-ledger/core';
import type { CustomerKeyStore } from './key-store.js';

export interface ShredderOptions {
  readonly store: EventStore;
  readonly keys: CustomerKeyStore;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Checkpoint name in the key store, default `shredder`. */
  readonly name?: string;
  readonly batchSize?: number;
  /** First wait before retrying after a transient failure, default 1 s (then doubling, capped at 15 s, jittered). */
  readonly retryMs?: number;
  /** Where the loop reports running / retrying / failed (`/ready`, `/status`). */
  readonly status?: StatusBoard;
}

export interface RunningShredder {
  /** Position up to which every CustomerErased has had its key destroyed. */
  readonly position: () => GlobalPosition;
  /** Resolves when the loop ended (signal aborted). */
  readonly done: Promise<void>;
}

/** Destroys the key of every CustomerErased in the batch; Left when the key store failed (nothing checkpointed). */
async function shredBatch(keys: CustomerKeyStore, batch: readonly StoredEvent[], logger: Logger) {
  for (const s of batch) {
    if (s.event.type !== 'CustomerErased') continue;
    const destroyed = await keys.destroy(s.event.customerId, s.recordedAt);
    if (E.isLeft(destroyed)) return destroyed;
    // one line per erasure (rare, worth an audit trail); the writer's decorator usually destroyed the key already,
    // and then the line is only a confirmation (debug): a catch-up over a history of erasures stays quiet
    logger[destroyed.right.alreadyDestroyed ? 'debug' : 'info'](
      {
        customerId: s.event.customerId,
        position: s.globalPosition,
        alreadyDestroyed: destroyed.right.alreadyDestroyed,
      },
      'erasure applied: customer key destroyed',
    );
  }
  return E.right(undefined);
}

/**
 * The shredder: a consumer of the global log that destroys a customer's key when it sees their
 * CustomerErased, whoever appended it (ingest API, CLI, inbound Kafka, another process). Destruction is
 * idempotent and the checkpoint (kept in the key store, beside the keys) is saved after it, so a crash
 * between the append and the destruction ends, at the next start, with the key destroyed.
 *
 * `startShredder` first catches up to the head of the log (it resolves once that is done: a process starts
 * serving only after every past erasure took effect), then follows the log live until the signal aborts.
 */
export async function startShredder(options: ShredderOptions): Promise<RunningShredder> {
  const { store, keys, logger, signal } = options;
  const name = options.name ?? 'shredder';
  const batchSize = options.batchSize ?? 1000;
  let position = await keys.loadCheckpoint(name);

  const handle = async (batch: readonly StoredEvent[]) => {
    if (batch.length === 0) return;
    const r = await shredBatch(keys, batch, logger);
    if (E.isLeft(r)) throw new Error(r.left.message, { cause: r.left.cause });
    position = batch[batch.length - 1]!.globalPosition;
    await keys.saveCheckpoint(name, position);
  };

  for await (const batch of store.readAll({ after: position, batchSize })) await handle(batch);

  // Transient failures (the key store or the log unreachable, a busy database) are retried from the checkpoint
  // forever with capped, jittered backoff; a bug or a permanent error stops the shredder, loudly.
  const follow = async () => {
    await retryForever(
      async ({ healthy }) => {
        for await (const batch of store.subscribe({ after: position, batchSize, signal })) {
          await handle(batch);
          healthy();
        }
      },
      {
        name: name,
        signal,
        ...(options.status === undefined ? {} : { status: options.status }),
        initialDelayMs: options.retryMs ?? 1000,
        onRetry: (err, attempts, delayMs) =>
          logger.warn({ err, position, attempts, delayMs }, 'shredder failed; retrying from its checkpoint'),
      },
    ).catch((err: unknown) => {
      logger.error({ err, position }, 'shredder stopped: a permanent error');
    });
  };
  return { position: () => position, done: follow() };
}
