import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectionWrite, ReadModelStore } from '@crm-ledger/core';
import { upcast, type RawEnvelope } from '@crm-ledger/events';
import { foldWithoutVoided, PROJECTION_NAMES, projections, type Positioned } from '@crm-ledger/projections';
import { generateHistory } from '@crm-ledger/synthetic';

/** docs/read-models.md, from this package's `src` or `dist`. */
export const READ_MODELS_DOC = path.join(import.meta.dirname, '..', '..', '..', 'docs', 'read-models.md');

/** Every ```sql block of docs/read-models.md, trimmed, in order. */
export function documentedQueries(doc = readFileSync(READ_MODELS_DOC, 'utf8')): string[] {
  return [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

/**
 * Fills the four views of `store` from a synthetic history (the same generator the seeded ledger uses): every
 * customer's events folded by the pure projections, their rows written with one checkpoint per view. No
 * projector is needed, so a store package can run this without depending on one.
 */
export async function seedViews(
  store: ReadModelStore,
  options: { seed?: number; customers?: number; targetEvents?: number } = {},
): Promise<{ events: number }> {
  const histories = generateHistory({
    seed: options.seed ?? 5,
    customers: options.customers ?? 150,
    targetEvents: options.targetEvents ?? 15_000,
  });
  // Global positions as a live ledger would give them: every event in time order.
  const all: RawEnvelope[] = [];
  for (const h of histories) all.push(...h.events);
  all.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
  const byCustomer = new Map<string, Positioned[]>();
  all.forEach((raw, i) => {
    const event = upcast(raw);
    if (event === undefined) return;
    let list = byCustomer.get(raw.customerId);
    if (list === undefined) byCustomer.set(raw.customerId, (list = []));
    list.push({ position: i + 1, event });
  });
  const writes: ProjectionWrite[] = [];
  for (const name of PROJECTION_NAMES) {
    const projection = projections[name];
    await store.ensureProjection(projection.spec);
    const changes = [...byCustomer].flatMap(([customerId, events]) => {
      const folded = foldWithoutVoided(projection, customerId, events);
      return folded.kept === 0 ? [] : projection.flush(folded.state);
    });
    writes.push({ projection: name, changes, checkpoint: all.length });
  }
  await store.apply(writes);
  return { events: all.length };
}
