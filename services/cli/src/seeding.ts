import cliProgress from 'cli-progress';
import type { EventStore } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { describeConflict, describeGone } from '@crm-ledger/ingest-api';
import { generateHistory } from '@crm-ledger/synthetic';
import { appendResumable, inPool, type Failure } from './append.js';

export interface SeedOptions {
  readonly customers: number;
  readonly seed: number;
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

/**
 * Writes the deterministic synthetic history (`@crm-ledger/synthetic`) through the same append path as the
 * HTTP API: one atomic append per customer, eight in flight. The same seed twice writes nothing new.
 */
export async function seedStore(store: EventStore, options: SeedOptions): Promise<SeedSummary> {
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
  const flush = async () => {
    const results = await inPool(page, 8, (h) => appendResumable(store, h.customerId, h.events));
    for (const [i, r] of results.entries()) {
      if (!r.ok)
        throw new Error(`seeding customer ${page[i]!.customerId} failed: ${describeFailure(r.failure)}`);
      summary.appended += r.written.appended;
      summary.duplicate += r.written.duplicate;
    }
    summary.customers += page.length;
    page.length = 0;
    if (options.progress) bar.update(summary.customers, { events: summary.appended + summary.duplicate });
  };
  try {
    for (const history of generateHistory({ seed: options.seed, customers: options.customers })) {
      page.push(history);
      if (page.length >= 64) await flush();
    }
    await flush();
  } finally {
    if (options.progress) bar.stop();
  }
  return summary;
}
