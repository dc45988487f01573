import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { Projector } from './projector.js';
import { replay } from './replay.js';
import { appendInterleaved, dumpViews } from './test-history.js';
import { customerViewsAsOf } from './time-travel.js';

/** Views without global positions (they differ between two ledgers): anomalies compared by event and reason. */
function comparable(views: Record<string, readonly Row[]>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [table, rows] of Object.entries(views))
    out[table] = table.endsWith('_anomalies')
      ? rows.map((r) => [r['customer_id'], r['event_id'], r['reason']]).sort()
      : [...rows];
  return out;
}

const voidOf = (target: RawEnvelope): RawEnvelope => ({
  eventId: randomUUID(),
  type: 'EventVoided',
  schemaVersion: 1,
  customerId: target.customerId,
  // A void carries the occurredAt of the event it voids: business-time cuts keep both or neither.
  occurredAt: target.occurredAt,
  data: { eventId: target.eventId, reason: 'recorded by mistake' },
});

describe('corrections: a void removes the event from every view, live, replayed and as of', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'projector-void-'));
  const withVoids = openSqliteEventStore({
    file: path.join(dir, 'with-voids.sqlite'),
    synchronous: 'normal',
  });
  const never = openSqliteEventStore({ file: path.join(dir, 'never.sqlite'), synchronous: 'normal' });
  const voided: RawEnvelope[] = [];
  let beforeVoids = 0;

  beforeAll(async () => {
    const histories = [...generateHistory({ seed: 11, customers: 40, targetEvents: 4_000 })];
    // Void events that later events depend on: subscription starts (renewals, expansions and the cancellation
    // follow), ticket openings (replies, resolution), purchases (refunds), and a registration.
    const wanted = [
      'SubscriptionStarted',
      'TicketOpened',
      'PurchaseMade',
      'CustomerRegistered',
      'SurveyAnswered',
    ];
    for (const [i, h] of histories.entries()) {
      if (i % 3 !== 0) continue;
      const target = h.events.find((e) => e.type === wanted[i % wanted.length]) ?? h.events[1]!;
      voided.push(target);
    }
    // A customer whose every event is voided disappears.
    const gone = histories[1]!;
    voided.push(...gone.events);
    const ids = new Set(voided.map((e) => e.eventId));
    await appendInterleaved(withVoids, histories);
    beforeVoids = await withVoids.headPosition();
    await appendInterleaved(
      never,
      histories.map((h) => ({
        customerId: h.customerId,
        events: h.events.filter((e) => !ids.has(e.eventId)),
      })),
    );
  }, 120_000);

  afterAll(async () => {
    await withVoids.close();
    await never.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('live (voids arriving after the events and their dependants), replay, and a ledger without the events agree', async () => {
    const live = openSqliteReadModel({ file: path.join(dir, 'live.sqlite') });
    const projector = new Projector({ store: withVoids, readModel: live, batchSize: 97, cacheSize: 5 });
    await projector.catchUp();
    // Voids arrive later, some batched together with later events of the same customers.
    for (const v of voided) {
      const r = await withVoids.append(customerStream(v.customerId), [voidOf(v)]);
      expect(r._tag).toBe('Right');
    }
    await projector.catchUp();
    const liveViews = await dumpViews(live);

    const rebuilt = openSqliteReadModel({ file: path.join(dir, 'rebuilt.sqlite') });
    await replay({ store: withVoids, readModel: rebuilt, batchSize: 333 });
    expect(await dumpViews(rebuilt)).toEqual(liveViews);

    const clean = openSqliteReadModel({ file: path.join(dir, 'clean.sqlite') });
    await new Projector({ store: never, readModel: clean }).catchUp();
    expect(comparable(liveViews)).toEqual(comparable(await dumpViews(clean)));
    // The voided customer is in no view; the original events are still in the log.
    const gone = voided[voided.length - 1]!.customerId;
    expect(liveViews['value_customers']!.some((r) => r['customer_id'] === gone)).toBe(false);
    const stream = await withVoids.readStream(customerStream(gone));
    expect(stream._tag === 'Right' && stream.right.length).toBeGreaterThan(0);
    for (const rm of [live, rebuilt, clean]) await rm.close();
  });

  it('as of a time, the voided customers look as if the events had never been recorded; as known before the void, they still count', async () => {
    const customers = [...new Set(voided.map((v) => v.customerId))];
    for (const id of customers) {
      for (const cut of ['2024-06-30T00:00:00Z', '2099-01-01T00:00:00Z']) {
        const a = await customerViewsAsOf(withVoids, id, { asOf: cut });
        const b = await customerViewsAsOf(never, id, { asOf: cut });
        expect(a._tag === 'Right' && a.right.views).toEqual(b._tag === 'Right' && b.right.views);
      }
    }
    // Known at a position before the voids were recorded: the first voided customer's views include the event.
    const id = voided[0]!.customerId;
    const known = await customerViewsAsOf(withVoids, id, { position: beforeVoids });
    const now = await customerViewsAsOf(withVoids, id, {});
    expect(known._tag === 'Right' && known.right.views).not.toEqual(now._tag === 'Right' && now.right.views);
  });
});
