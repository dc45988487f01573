import cliProgress from 'cli-progress';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { describeConflict, describeGone } from '@crm-ledger/ingest-api';
import { generateHistory } from '@crm-ledger/synthetic';
import { appendResumable, inPool, type Failure } from './append.js';

export interface SeedOptions {
  readonly customers: number;
  readonly seed: number;
  /** The instant the history ends (UTC ISO-8601): it covers the three years up to it. */
  readonly end: string;
  /** Show a progress bar on stderr (only drawn on a terminal). */
  readonly progress: boolean;
}

export interface SeedSummary {
  customers: number;
  appended: number;
  duplicate: number;
}

export function describeFailure(f: Failure): string {
  switch (f.outcome.status) {
    case 'conflict':
      return describeConflict(f.outcome.error);
    case 'invalid':
      return f.outcome.message;
    case 'unavailable':
      return `event store unavailable: ${f.outcome.message}`;
    case 'gone':
      return describeGone(f.outcome.customerId);
  }
}

/** Three years, as long as the generator's default window (2023-01-01 to 2025-12-31). */
const DEMO_SPAN_MS = 1096 * 86_400_000 - 1;

/** The window of a demo history ending at `end`: the three years before it. */
export function demoWindow(end: string): { start: string; end: string } {
  return { start: new Date(Date.parse(end) - DEMO_SPAN_MS).toISOString(), end };
}

/**
 * The default end of a demo history: the end of yesterday (UTC) at `now`, so the history lives in the present
 * (nothing after the moment it is seeded) and is the same whenever it is seeded on the same day.
 */
export function defaultDemoEnd(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 1).toISOString();
}

/** Why seeding stopped: the customer whose append failed, and how. */
export interface SeedFailure {
  readonly customerId: string;
  readonly failure: Failure;
}

/**
 * Writes the deterministic synthetic history (`@crm-ledger/synthetic`) through the same append path as the
 * HTTP API: one atomic append per customer, eight in flight. The same seed and end twice write nothing new.
 * Throws when an append fails (see `trySeedStore` for the failure as a value).
 */
export async function seedStore(store: EventStore, options: SeedOptions): Promise<SeedSummary> {
  const seeded = await trySeedStore(store, options);
  if (E.isLeft(seeded)) throw new Error(describeSeedFailure(seeded.left));
  return seeded.right;
}

export const describeSeedFailure = (f: SeedFailure): string =>
  `seeding customer ${f.customerId} failed: ${describeFailure(f.failure)}`;

/** `seedStore`, answering the first failed append as a Left (the appends before it stay written). */
export async function trySeedStore(
  store: EventStore,
  options: SeedOptions,
): Promise<E.Either<SeedFailure, SeedSummary>> {
  const bar = new cliProgress.SingleBar(
    {
      format: 'seed   [{bar}] {value}/{total} customers | {events} events | {eta_formatted} left',
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  if (options.progress) bar.start(options.customers, 0, { events: 0 });
  const summary: SeedSummary = { customers: 0, appended: 0, duplicate: 0 };
  const page: { customerId: string; events: RawEnvelope[] }[] = [];
  const flush = async (): Promise<SeedFailure | undefined> => {
    const results = await inPool(page, 8, (h) => appendResumable(store, h.customerId, h.events));
    for (const [i, r] of results.entries()) {
      if (E.isLeft(r)) return { customerId: page[i]!.customerId, failure: r.left };
      summary.appended += r.right.appended;
      summary.duplicate += r.right.duplicate;
    }
    summary.customers += page.length;
    page.length = 0;
    if (options.progress) bar.update(summary.customers, { events: summary.appended + summary.duplicate });
    return undefined;
  };
  try {
    for (const history of generateHistory({
      seed: options.seed,
      customers: options.customers,
      ...demoWindow(options.end),
    })) {
      page.push(history);
      if (page.length >= 64) {
        const failed = await flush();
        if (failed !== undefined) return E.left(failed);
      }
    }
    const failed = await flush();
    if (failed !== undefined) return E.left(failed);
  } finally {
    if (options.progress) bar.stop();
  }
  return E.right(summary);
}
