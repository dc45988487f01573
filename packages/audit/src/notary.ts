import {
  DigestFolder,
  GENESIS_LINK,
  retryForever,
  systemClock,
  type Clock,
  type DigestStore,
  type EventStore,
  type LedgerDigest,
  type StatusBoard,
} from '@crm-ledger/core';

/** Events per digest unless told otherwise. */
export const DEFAULT_DIGEST_EVERY = 10_000;

export interface NotaryOptions {
  readonly store: EventStore;
  readonly digests: DigestStore;
  /** A digest every this many events (default 10,000). */
  readonly every?: number;
  readonly clock?: Clock;
  /** Events read per page (default 2,000). */
  readonly batchSize?: number;
}

/**
 * The notary of the global log: it reads the log through the `EventStore` port from its last digest and
 * folds the stored links, in global order, into the digest chain (`DigestFolder`), recording a digest every
 * `every` events. It works over any store, and records into any `DigestStore`.
 * One notary per ledger: a second one racing it is refused by the digest store (numbers must follow).
 */
export class LedgerNotary {
  private readonly every: number;
  private readonly clock: Clock;
  private readonly batchSize: number;

  constructor(private readonly options: NotaryOptions) {
    this.every = options.every ?? DEFAULT_DIGEST_EVERY;
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? 2_000;
    if (!Number.isSafeInteger(this.every) || this.every < 1) {
      throw new RangeError('every must be a positive whole number of events');
    }
  }

  /**
   * Records a digest for every full `every` events after the last digest, up to the head of the log as it
   * is now; with `tail`, one more for the events left over (so that every stored event is covered).
   * Returns the digests recorded.
   */
  async notarise(options: { readonly tail?: boolean } = {}): Promise<LedgerDigest[]> {
    const { store, digests } = this.options;
    const last = await digests.last();
    const head = await store.headPosition();
    let number = last?.number ?? 0;
    let count = last?.count ?? 0;
    let position = last?.position ?? 0;
    if (head <= position) return [];
    const folder = new DigestFolder(last?.digest ?? GENESIS_LINK);
    const recorded: LedgerDigest[] = [];
    const seal = async () => {
      number += 1;
      const digest: LedgerDigest = {
        number,
        position,
        count,
        digest: folder.seal(),
        recordedAt: this.clock.now(),
      };
      await digests.record(digest);
      recorded.push(digest);
    };
    for await (const page of store.readAll({ after: position, until: head, batchSize: this.batchSize })) {
      for (const event of page) {
        folder.add(event.hash);
        count += 1;
        position = event.globalPosition;
        if (folder.count === this.every) await seal();
      }
    }
    if (options.tail === true && folder.count > 0) await seal();
    return recorded;
  }

  /**
   * Runs until `signal` aborts: catches up at once (tail included), then looks every `pollMs` (default 5 s)
   * for full intervals of `every` events, and covers the tail at least every `tailMs` (default one minute).
   * A round that failed transiently (the store or digest store unreachable, busy) is reported to `onError` and
   * tried again after a capped, jittered backoff (shown on `status` as retrying), forever; a bug or a
   * permanent error marks the notary failed and rejects.
   */
  async run(options: {
    readonly signal: AbortSignal;
    readonly pollMs?: number;
    readonly tailMs?: number;
    readonly onDigests?: (digests: readonly LedgerDigest[]) => void;
    readonly onError?: (error: unknown) => void;
    readonly status?: StatusBoard;
  }): Promise<void> {
    const pollMs = options.pollMs ?? 5_000;
    const tailMs = options.tailMs ?? 60_000;
    let lastTail = Number.NEGATIVE_INFINITY;
    await retryForever(
      async ({ healthy }) => {
        while (!options.signal.aborted) {
          const now = Date.now();
          const tail = now - lastTail >= tailMs;
          const recorded = await this.notarise({ tail });
          healthy();
          if (tail) lastTail = now;
          if (recorded.length > 0) options.onDigests?.(recorded);
          await sleep(pollMs, options.signal);
        }
      },
      {
        name: 'notary',
        signal: options.signal,
        initialDelayMs: Math.min(pollMs, 1_000),
        ...(options.status === undefined ? {} : { status: options.status }),
        onRetry: (error) => options.onError?.(error),
      },
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
