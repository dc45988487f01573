import type { Readable } from 'node:stream';

export interface WakeUp {
  readonly signal?: AbortSignal | undefined;
  /** True when the caller has something to do besides reading (a failure, a marker): stop waiting. */
  readonly pending: () => boolean;
  /** Registers a callback for out-of-band news (returns the unregister function). */
  readonly onNews: (wake: () => void) => () => void;
  /**
   * Called synchronously for every item taken off the readable, before anything else can run: a caller that
   * pins out-of-band markers to a count of items taken must count the batch in hand (see subscription.ts).
   */
  readonly taken?: () => void;
}

/**
 * Takes what a readable (object mode) has buffered right now, up to `max` items, without waiting.
 * Waits (for data, the end, an error, news or the abort signal) only when nothing is buffered.
 * Returns `undefined` at the end of the readable, and an empty array when woken without data
 * (aborted, failed or news: the caller checks which).
 */
export async function nextBatch<T>(
  readable: Readable,
  max: number,
  wakeUp: WakeUp,
): Promise<T[] | undefined> {
  for (;;) {
    const batch: T[] = [];
    let item: unknown;
    while (batch.length < max && (item = readable.read() as unknown) !== null) {
      batch.push(item as T);
      wakeUp.taken?.();
    }
    if (batch.length > 0) return batch;
    if (readable.readableEnded) return undefined;
    if (readable.destroyed || wakeUp.signal?.aborted === true || wakeUp.pending()) return [];
    await new Promise<void>((resolve) => {
      const events = ['readable', 'end', 'error', 'close'] as const;
      const done = () => {
        for (const e of events) readable.off(e, done);
        wakeUp.signal?.removeEventListener('abort', done);
        unregister();
        resolve();
      };
      for (const e of events) readable.on(e, done);
      wakeUp.signal?.addEventListener('abort', done, { once: true });
      const unregister = wakeUp.onNews(done);
    });
  }
}
