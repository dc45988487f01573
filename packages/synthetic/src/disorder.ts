import type { RawEnvelope } from '@crm-ledger/events';
import { Rng, uuidFor } from './rng.js';
import type { CustomerHistory } from './generate.js';

export interface DisorderOptions {
  /** Same seed, same histories: same output. */
  readonly seed: number;
  /** Share of events whose business time (`occurredAt`) is moved back by up to `maxBackdateDays` (default 0.1). */
  readonly backdated?: number;
  readonly maxBackdateDays?: number;
  /** Share of events recorded late: moved to a random later place in the log, up to its end (default 0.05). */
  readonly late?: number;
  /** Share of events whose fact is recorded a second time under a new event id (default 0.05). */
  readonly duplicated?: number;
}

const DAY = 86_400_000;

/**
 * A log as real sources deliver it, from well-ordered histories: events appended in time order, then disturbed.
 * Some business times go back (an agent reply dated before its ticket was opened, a purchase dated before the
 * registration), some events arrive late (far after their neighbours in the log), some facts are recorded twice
 * under new event ids (an importer re-sending a row). The result is in log order (the order to append); every
 * event id is unique. For the determinism specs: views must not depend on how such a log is cut into batches.
 */
export function disorder(histories: Iterable<CustomerHistory>, options: DisorderOptions): RawEnvelope[] {
  const rng = new Rng(options.seed, 0x0d15_0d3e);
  const backdated = options.backdated ?? 0.1;
  const maxBack = (options.maxBackdateDays ?? 30) * DAY;
  const late = options.late ?? 0.05;
  const duplicated = options.duplicated ?? 0.05;
  const all: RawEnvelope[] = [];
  for (const h of histories) all.push(...h.events);
  all.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
  const log: RawEnvelope[] = [];
  const delayed: { at: number; event: RawEnvelope }[] = [];
  let copies = 0;
  for (const original of all) {
    let e = original;
    if (rng.chance(backdated)) {
      const t = Date.parse(e.occurredAt) - 1 - rng.int(maxBack);
      e = { ...e, occurredAt: new Date(t).toISOString() };
    }
    if (rng.chance(late)) delayed.push({ at: log.length + 1 + rng.int(all.length), event: e });
    else log.push(e);
    if (rng.chance(duplicated)) {
      const copy = { ...e, eventId: uuidFor(rng, 0xfffffff, copies++) };
      delayed.push({ at: log.length + rng.int(50), event: copy });
    }
  }
  // Insert the late and duplicated events at their (later) places, back to front so indexes hold.
  delayed.sort((a, b) => b.at - a.at);
  for (const { at, event } of delayed) log.splice(Math.min(at, log.length), 0, event);
  return log;
}
