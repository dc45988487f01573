import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_LINK, canonicalJson, chainLink, fixedClock, type StoredEvent } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { openSqliteEventStore, readChainBackfill } from './index.js';

/** The events table as it was before the chain (no hash column). */
const OLD_DDL = `
CREATE TABLE events (
  global_position INTEGER PRIMARY KEY, stream_name TEXT NOT NULL, revision INTEGER NOT NULL,
  event_id TEXT NOT NULL, type TEXT NOT NULL, customer_id TEXT NOT NULL, recorded_at TEXT NOT NULL,
  body TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX events_stream_revision ON events (stream_name, revision);
CREATE UNIQUE INDEX events_event_id ON events (event_id);`;

function feature(n: number, customerId: string): RawEnvelope {
  return {
    eventId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    type: 'FeatureAdopted',
    schemaVersion: 1,
    customerId,
    occurredAt: '2024-01-01T00:00:00.000Z',
    data: { feature: `f${n}` },
  };
}

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-chain-'));
  file = path.join(dir, 'old.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function expectChained(events: readonly StoredEvent[]): void {
  let prev = GENESIS_LINK;
  for (const s of events) {
    expect(s.hash).toBe(chainLink(prev, s.streamName, s.revision, canonicalJson(s.event)));
    prev = s.hash;
  }
}

describe('a ledger file from before the hash chain', () => {
  it('gets the hash column, links for every stored event (recorded as a back-fill), and new appends chain on', async () => {
    const old = new Database(file);
    old.exec(OLD_DDL);
    const insert = old.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    // Two streams interleaved in the global log.
    const rows: [string, RawEnvelope][] = [
      ['a', feature(1, 'a')],
      ['b', feature(2, 'b')],
      ['a', feature(3, 'a')],
      ['a', feature(4, 'a')],
      ['b', feature(5, 'b')],
    ];
    const revisions = new Map<string, number>();
    rows.forEach(([c, e], i) => {
      const revision = revisions.get(c) ?? 0;
      revisions.set(c, revision + 1);
      insert.run(
        i + 1,
        customerStream(c),
        revision,
        e.eventId,
        e.type,
        c,
        '2024-01-01T00:00:00.000Z',
        canonicalJson(e),
      );
    });
    old.close();
    expect(readChainBackfill(file)).toBeUndefined();

    const store = openSqliteEventStore({ file, clock: fixedClock('2025-03-01T00:00:00.000Z', 1000) });
    try {
      expect(readChainBackfill(file)).toEqual({
        position: 5,
        events: 5,
        linkedAt: '2025-03-01T00:00:00.000Z',
      });
      const a = await store.readStream(customerStream('a'));
      const b = await store.readStream(customerStream('b'));
      if (E.isLeft(a) || E.isLeft(b)) throw new Error('read failed');
      expect(a.right).toHaveLength(3);
      expectChained(a.right);
      expectChained(b.right);
      expect(
        E.isRight(await store.append(customerStream('a'), [feature(6, 'a')], { expectedRevision: 2 })),
      ).toBe(true);
      const again = await store.readStream(customerStream('a'));
      if (E.isLeft(again)) throw new Error('read failed');
      expect(again.right).toHaveLength(4);
      expectChained(again.right);
    } finally {
      await store.close();
    }
    // Opening it again migrates nothing more: the back-fill stays the one recorded.
    const reopened = openSqliteEventStore({ file });
    await reopened.close();
    expect(readChainBackfill(file)).toMatchObject({ position: 5, events: 5 });
  });

  it('a new file has no back-fill', async () => {
    const store = openSqliteEventStore({ file });
    await store.append(customerStream('a'), [feature(1, 'a')]);
    await store.close();
    expect(readChainBackfill(file)).toBeUndefined();
  });
});
