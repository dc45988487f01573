import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_LINK, chainLink, fixedClock } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { openSqliteDigestStore, openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { exportDigest, parseExportedDigest } from './exported-digest.js';
import { LedgerNotary } from './notary.js';
import { verifyLedger, type VerifyReport } from './verify.js';

let dir: string;
let file: string;

interface Row {
  global_position: number;
  stream_name: string;
  revision: number;
  event_id: string;
  body: string;
  hash: string;
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-verify-'));
  file = path.join(dir, 'ledger.sqlite');
  const store = openSqliteEventStore({ file, clock: fixedClock('2025-01-01T00:00:00.000Z', 1) });
  const digests = openSqliteDigestStore(file);
  try {
    // Customers appended in two halves each, so the streams interleave in the global log.
    const histories = [...generateHistory({ seed: 3, customers: 30, targetEvents: 1_500 })];
    for (const half of [0, 1]) {
      for (const { customerId, events } of histories) {
        const cut = Math.ceil(events.length / 2);
        const part = half === 0 ? events.slice(0, cut) : events.slice(cut);
        if (part.length > 0) {
          const r = await store.append(customerStream(customerId), part);
          if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
        }
      }
    }
    await new LedgerNotary({ store, digests, every: 200 }).notarise({ tail: true });
  } finally {
    await digests.close();
    await store.close();
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Verifies the file as `crm-ledger verify` does: a fresh store and the recorded digests. */
async function verify(against?: Parameters<typeof verifyLedger>[1]['against']): Promise<VerifyReport> {
  const store = openSqliteEventStore({ file });
  const digests = openSqliteDigestStore(file);
  try {
    return await verifyLedger(store, {
      digests: await digests.all(),
      batchSize: 97,
      ...(against === undefined ? {} : { against }),
    });
  } finally {
    await digests.close();
    await store.close();
  }
}

/** A second connection to the file, as an attacker with write access to it would use. */
function tamper<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const rowAt = (db: Database.Database, p: number) =>
  db.prepare<[number], Row>('SELECT * FROM events WHERE global_position = ?').get(p)!;

/** An event in the middle of the log that has a later event in its stream. */
function aMiddleEvent(db: Database.Database): Row {
  return db
    .prepare<[], Row>(
      `SELECT e.* FROM events e WHERE e.global_position > 400 AND EXISTS
        (SELECT 1 FROM events l WHERE l.stream_name = e.stream_name AND l.revision = e.revision + 1)
       ORDER BY e.global_position LIMIT 1`,
    )
    .get()!;
}

describe('verify over a real SQLite ledger', () => {
  it('passes on an untouched ledger, checking every event, stream and digest', async () => {
    const report = await verify();
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.events).toBeGreaterThan(1_000);
    expect(report.streams).toBe(30);
    expect(report.digests).toBe(Math.ceil(report.events / 200));
  });

  it('one changed byte of a body: names that event, with the expected and the stored link', async () => {
    const victim = tamper((db) => {
      const row = aMiddleEvent(db);
      // Same length, still JSON: only the content differs (the event id's last character).
      const body = row.body.replace(
        /"eventId":"(.*?)(.)"/,
        (_, a: string, b: string) => `"eventId":"${a}${b === '0' ? '1' : '0'}"`,
      );
      expect(body).not.toBe(row.body);
      expect(body.length).toBe(row.body.length);
      db.prepare('UPDATE events SET body = ? WHERE global_position = ?').run(body, row.global_position);
      return row;
    });
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({
      type: 'ChainBreak',
      reason: 'link_mismatch',
      streamName: victim.stream_name,
      revision: victim.revision,
      globalPosition: victim.global_position,
      found: victim.hash,
    });
    expect(report.problem).toHaveProperty('expected', expect.not.stringMatching(victim.hash));
    expect(report.events).toBe(victim.global_position - 1);
  });

  it('a deleted event: names its stream and revision (at the next event of the stream)', async () => {
    const { victim, next } = tamper((db) => {
      const row = aMiddleEvent(db);
      const after = db
        .prepare<[string, number], Row>('SELECT * FROM events WHERE stream_name = ? AND revision = ?')
        .get(row.stream_name, row.revision + 1)!;
      db.prepare('DELETE FROM events WHERE global_position = ?').run(row.global_position);
      return { victim: row, next: after };
    });
    const report = await verify();
    expect(report.problem).toMatchObject({
      type: 'ChainBreak',
      reason: 'revision_gap',
      streamName: victim.stream_name,
      expected: String(victim.revision),
      found: String(victim.revision + 1),
      globalPosition: next.global_position,
      eventId: next.event_id,
    });
  });

  it('a deleted last event of a stream: the digest that covered it breaks', async () => {
    const victim = tamper((db) => {
      const row = db
        .prepare<[], Row>(
          `SELECT e.* FROM events e WHERE e.global_position BETWEEN 300 AND 900 AND NOT EXISTS
            (SELECT 1 FROM events l WHERE l.stream_name = e.stream_name AND l.revision > e.revision)
           ORDER BY e.global_position LIMIT 1`,
        )
        .get()!;
      db.prepare('DELETE FROM events WHERE global_position = ?').run(row.global_position);
      return row;
    });
    const report = await verify();
    expect(report.problem).toMatchObject({
      type: 'DigestBreak',
      source: 'ledger',
      reason: 'mismatch',
      number: Math.ceil(victim.global_position / 200),
    });
  });

  it('two events of a stream swapped: names the first of them', async () => {
    const first = tamper((db) => {
      const a = aMiddleEvent(db);
      const b = db
        .prepare<[string, number], Row>('SELECT * FROM events WHERE stream_name = ? AND revision = ?')
        .get(a.stream_name, a.revision + 1)!;
      // Each keeps its content, link and revision; they trade places in the log.
      const move = db.prepare('UPDATE events SET global_position = ? WHERE global_position = ?');
      db.transaction(() => {
        move.run(-1, a.global_position);
        move.run(a.global_position, b.global_position);
        move.run(b.global_position, -1);
      })();
      return { position: a.global_position, now: b };
    });
    const report = await verify();
    expect(report.problem).toMatchObject({
      type: 'ChainBreak',
      reason: 'revision_gap',
      globalPosition: first.position,
      eventId: first.now.event_id,
      expected: String(first.now.revision - 1),
      found: String(first.now.revision),
    });
  });

  it('a rewritten link: names that event and the link stored', async () => {
    const victim = tamper((db) => {
      const row = aMiddleEvent(db);
      db.prepare('UPDATE events SET hash = ? WHERE global_position = ?').run(
        'f'.repeat(64),
        row.global_position,
      );
      return row;
    });
    const report = await verify();
    expect(report.problem).toMatchObject({
      type: 'ChainBreak',
      reason: 'link_mismatch',
      globalPosition: victim.global_position,
      eventId: victim.event_id,
      expected: victim.hash,
      found: 'f'.repeat(64),
    });
  });

  it('a body that is no longer JSON: reported as unreadable after the last good position', async () => {
    const victim = tamper((db) => {
      const row = aMiddleEvent(db);
      db.prepare('UPDATE events SET body = ? WHERE global_position = ?').run(
        `${row.body.slice(0, -1)}`,
        row.global_position,
      );
      return row;
    });
    const report = await verify();
    expect(report.problem).toMatchObject({ type: 'UnreadableLog' });
    const after = (report.problem as { after: number }).after;
    expect(after).toBeLessThan(victim.global_position);
    expect(after).toBeGreaterThanOrEqual(victim.global_position - 97);
  });

  it('an exported digest catches a rewrite even when every link and digest was recomputed', async () => {
    const digests = openSqliteDigestStore(file);
    const exported = exportDigest(await digests.all(), '2025-02-01T00:00:00.000Z')!;
    await digests.close();
    // The file an auditor keeps round-trips through its schema.
    const kept = parseExportedDigest(JSON.stringify(exported));
    if (E.isLeft(kept)) throw new Error(kept.left.join('; '));
    expect((await verify(kept.right.chain)).ok).toBe(true);

    // The attacker rewrites an early event, then recomputes its stream's links and every digest.
    const victim = tamper((db) => {
      const row = db.prepare<[], Row>('SELECT * FROM events WHERE global_position = 250').get()!;
      const body = row.body.replace(
        /"occurredAt":"(\d{4})/,
        (_, y: string) => `"occurredAt":"${Number(y) - 1}`,
      );
      expect(body).not.toBe(row.body);
      db.prepare('UPDATE events SET body = ? WHERE global_position = ?').run(body, row.global_position);
      const rows = db
        .prepare<[string], Row>('SELECT * FROM events WHERE stream_name = ? ORDER BY revision')
        .all(row.stream_name);
      let prev = GENESIS_LINK;
      const update = db.prepare('UPDATE events SET hash = ? WHERE global_position = ?');
      for (const r of rows) {
        prev = chainLink(prev, r.stream_name, r.revision, r.body);
        update.run(prev, r.global_position);
      }
      db.exec('DELETE FROM ledger_digests');
      return row;
    });
    {
      const store = openSqliteEventStore({ file });
      const digests2 = openSqliteDigestStore(file);
      await new LedgerNotary({ store, digests: digests2, every: 200 }).notarise({ tail: true });
      await digests2.close();
      await store.close();
    }
    const relinked = tamper((db) => rowAt(db, victim.global_position));
    expect(relinked.hash).not.toBe(victim.hash);
    const fooled = await verify();
    expect(fooled.ok).toBe(true);
    const caught = await verify(kept.right.chain);
    expect(caught.ok).toBe(false);
    expect(caught.problem).toMatchObject({
      type: 'DigestBreak',
      source: 'export',
      reason: 'mismatch',
      number: Math.ceil(victim.global_position / 200),
      expected: { digest: exported.chain[Math.ceil(victim.global_position / 200) - 1]!.digest },
    });
  });
});
