import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_LINK, canonicalJson, chainLink, fixedClock, type StoredEvent } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import {
  customerPartition,
  openSqliteCheckpointStore,
  openSqliteEventStore,
  type SqliteEventStore,
} from './index.js';

let dir: string;
let file: string;
let store: SqliteEventStore;

let counter = 0;
function uuid(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}
function feature(customerId: string, feature = 'reports'): RawEnvelope {
  counter += 1;
  return {
    eventId: uuid(counter),
    type: 'FeatureAdopted',
    schemaVersion: 1,
    customerId,
    occurredAt: '2024-01-01T00:00:00Z',
    data: { feature },
  };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-store-'));
  file = path.join(dir, 'ledger.sqlite');
  store = openSqliteEventStore({ file, clock: fixedClock('2024-06-01T00:00:00.000Z', 1000) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite event store (real file)', () => {
  it("refuses a batch over the limit every store shares (1 MiB, EventStoreDB's append), writing nothing", async () => {
    await store.close();
    store = openSqliteEventStore({ file, validation: 'envelope' });
    const big = (n: number): RawEnvelope => ({ ...feature('big'), data: { blob: 'z'.repeat(n) } });
    const over = await store.append(
      customerStream('big'),
      Array.from({ length: 11 }, () => big(100_000)),
    );
    expect(E.isLeft(over) && over.left).toMatchObject({
      type: 'InvalidAppend',
      message: expect.stringMatching(/over the maximum append of 1048576/) as string,
    });
    expect(await store.readStream(customerStream('big'))).toEqual(E.right([]));
    const within = await store.append(
      customerStream('big'),
      Array.from({ length: 10 }, () => big(100_000)),
    );
    expect(E.isRight(within)).toBe(true);
  });

  it('keeps events across a reopen of the file: durable when append returns', async () => {
    const events = [feature('a'), feature('a')];
    const result = await store.append(customerStream('a'), events, { expectedRevision: 'no_stream' });
    expect(E.isRight(result) && result.right.positions).toEqual([1, 2]);
    await store.close();
    store = openSqliteEventStore({ file });
    const read = await store.readStream(customerStream('a'));
    expect(E.isRight(read) && read.right.map((e) => e.event.eventId)).toEqual(events.map((e) => e.eventId));
  });

  it.each(['thread', 'inline'] as const)(
    'leaves every event in the file itself after close, with no WAL beside it (writer %s)',
    async (writer) => {
      await store.close();
      store = openSqliteEventStore({ file, writer });
      // Many commits, so that the WAL holds data the file does not until the close checkpoints it.
      for (let c = 0; c < 40; c++) {
        const r = await store.append(customerStream(`w${c}`), [feature(`w${c}`), feature(`w${c}`)]);
        expect(E.isRight(r)).toBe(true);
      }
      await store.close();
      expect(existsSync(`${file}-wal`)).toBe(false);
      // The file alone, moved away from anything beside it, holds all 80 events.
      const moved = path.join(dir, 'moved.sqlite');
      renameSync(file, moved);
      store = openSqliteEventStore({ file: moved });
      expect(await store.headPosition()).toBe(80);
    },
  );

  it('stores the envelope exactly as appended (canonical JSON), with no upcasting', async () => {
    const v1 = {
      eventId: uuid(9_000_001),
      type: 'TicketOpened',
      schemaVersion: 1,
      customerId: 'a',
      occurredAt: '2024-01-01T00:00:00Z',
      data: { ticketId: 't1', channel: 'chat', category: 'login' },
    };
    await store.append(customerStream('a'), [v1]);
    const read = await store.readStream(customerStream('a'));
    expect(E.isRight(read) && read.right[0]!.event).toEqual(v1);
  });

  it('group-commits concurrent appends to many streams, each atomic and answered on its own', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.append(customerStream(`c${i}`), [feature(`c${i}`), feature(`c${i}`)]),
      ),
    );
    expect(results.every(E.isRight)).toBe(true);
    const positions = results.flatMap((r) => (E.isRight(r) ? r.right.positions : []));
    expect(new Set(positions).size).toBe(100);
    expect(await store.headPosition()).toBe(100);
  });

  it('one rejected append in a group leaves the others written and itself not at all', async () => {
    await store.append(customerStream('x'), [feature('x')]);
    const [ok, stale, ok2] = await Promise.all([
      store.append(customerStream('y'), [feature('y')]),
      store.append(customerStream('x'), [feature('x'), feature('x')], { expectedRevision: 5 }),
      store.append(customerStream('z'), [feature('z')]),
    ]);
    expect(E.isRight(ok) && E.isRight(ok2)).toBe(true);
    expect(E.isLeft(stale) && stale.left).toMatchObject({
      type: 'WrongExpectedRevision',
      actual: 0,
      expected: 5,
    });
    const x = await store.readStream(customerStream('x'));
    expect(E.isRight(x) && x.right.length).toBe(1);
  });

  it('answers a retry with a stale expected revision as a duplicate, and writes nothing', async () => {
    const batch = [feature('r'), feature('r')];
    const first = await store.append(customerStream('r'), batch, { expectedRevision: 'no_stream' });
    await store.append(customerStream('r'), [feature('r')]);
    const retry = await store.append(customerStream('r'), batch, { expectedRevision: 'no_stream' });
    expect(E.isRight(retry) && retry.right.duplicate).toBe(true);
    expect(E.isRight(retry) && E.isRight(first) && retry.right.positions).toEqual(
      E.isRight(first) && first.right.positions,
    );
    expect(await store.headPosition()).toBe(3);
  });

  it('undoes its own rows when an event id deep in a batch is already stored: no row and no gap left', async () => {
    const stored = feature('u');
    await store.append(customerStream('u'), [stored]);
    const batch = [feature('u'), feature('u'), stored, feature('u')];
    const refused = await store.append(customerStream('u'), batch);
    expect(E.isLeft(refused) && refused.left).toMatchObject({
      type: 'IdempotencyConflict',
      reason: 'partial_batch',
    });
    expect(await store.headPosition()).toBe(1);
    const next = await store.append(customerStream('u'), [feature('u')], { expectedRevision: 0 });
    expect(E.isRight(next) && next.right.positions).toEqual([2]);
  });

  it('rejects an event appended to another customer stream, and bad input, writing nothing', async () => {
    const wrong = await store.append(customerStream('a'), [feature('b')]);
    expect(E.isLeft(wrong) && wrong.left.type).toBe('InvalidAppend');
    const bad = await store.append(customerStream('a'), [
      { ...feature('a'), data: { feature: 'NOT A SLUG' } },
    ]);
    expect(E.isLeft(bad) && bad.left).toMatchObject({ type: 'InvalidAppend', index: 0 });
    const badStream = await store.append('has space', [feature('a')]);
    expect(E.isLeft(badStream)).toBe(true);
    expect(await store.headPosition()).toBe(0);
  });

  it('two store instances on one file never fork a stream: one of two racing appends wins', async () => {
    const other = openSqliteEventStore({ file });
    try {
      await store.append(customerStream('race'), [feature('race')]);
      const results = await Promise.all([
        store.append(customerStream('race'), [feature('race')], { expectedRevision: 0 }),
        other.append(customerStream('race'), [feature('race')], { expectedRevision: 0 }),
      ]);
      expect(results.filter(E.isRight)).toHaveLength(1);
      const read = await store.readStream(customerStream('race'));
      expect(E.isRight(read) && read.right.map((e) => e.revision)).toEqual([0, 1]);
    } finally {
      await other.close();
    }
  });

  it('chains every link right when the guessed stream head is stale (another instance appended in between)', async () => {
    // Each instance computes links ahead on the head it last wrote; interleaving makes most guesses wrong.
    const other = openSqliteEventStore({ file });
    try {
      const stream = customerStream('shared');
      for (let round = 0; round < 6; round++) {
        const writer = round % 3 === 0 ? other : store;
        const batch = [feature('shared'), feature('shared')];
        const results = await Promise.all([
          writer.append(stream, batch, { expectedRevision: 'any' }),
          // A second append queued behind the first of this round chains onto its guessed head.
          writer.append(stream, [feature('shared')]),
        ]);
        expect(results.every(E.isRight)).toBe(true);
      }
      const read = await store.readStream(stream);
      const events = E.isRight(read) ? read.right : [];
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 18 }, (_, i) => i));
      let link = GENESIS_LINK;
      for (const e of events) {
        link = chainLink(link, stream, e.revision, canonicalJson(e.event));
        expect(e.hash).toBe(link);
      }
    } finally {
      await other.close();
    }
  });

  it('keeps recordedAt non-decreasing and finds the position at a time', async () => {
    for (let i = 0; i < 5; i++) await store.append(customerStream('t'), [feature('t')]);
    // The clock ticks one second per commit from 2024-06-01T00:00:00Z.
    expect(await store.positionAt('2024-06-01T00:00:02.500Z')).toBe(3);
    expect(await store.positionAt('2020-01-01T00:00:00Z')).toBe(0);
    expect(await store.positionAt('2030-01-01T00:00:00Z')).toBe(5);
    await expect(store.positionAt('yesterday')).rejects.toThrow(RangeError);
  });

  it('subscribes from a checkpoint, reports catching up, then delivers live appends until aborted', async () => {
    await store.append(customerStream('s'), [feature('s'), feature('s')]);
    const controller = new AbortController();
    const seen: StoredEvent[] = [];
    let caughtUpAt = -1;
    const loop = (async () => {
      for await (const batch of store.subscribe({
        after: 1,
        signal: controller.signal,
        onCaughtUp: (p) => {
          caughtUpAt = p;
          if (seen.length === 1) void store.append(customerStream('s'), [feature('s')]);
        },
      })) {
        seen.push(...batch);
        if (seen.length === 2) controller.abort();
      }
    })();
    await loop;
    expect(caughtUpAt).toBe(2);
    expect(seen.map((e) => e.globalPosition)).toEqual([2, 3]);
  });

  it('keeps checkpoints that never move backwards', async () => {
    const checkpoints = openSqliteCheckpointStore(path.join(dir, 'checkpoints.sqlite'));
    expect(await checkpoints.load('relay')).toBe(0);
    await checkpoints.save('relay', 10);
    await checkpoints.save('relay', 7);
    expect(await checkpoints.load('relay')).toBe(10);
    await checkpoints.close();
  });
});

/** The writer thread behind a store opened with the default `writer: 'thread'`. */
function writerThreadOf(s: SqliteEventStore): Worker {
  const thread = (s as unknown as { thread: Worker | undefined }).thread;
  if (thread === undefined) throw new Error('this store has no writer thread');
  return thread;
}

describe('SQLite event store: the writer thread', () => {
  it('close() waits for every append already taken and commits them all', async () => {
    const pending = Array.from({ length: 40 }, (_, i) =>
      store.append(customerStream(`d${i}`), [feature(`d${i}`), feature(`d${i}`)]),
    );
    await store.close();
    const results = await Promise.all(pending);
    expect(results.every(E.isRight)).toBe(true);
    const late = await store.append(customerStream('late'), [feature('late')]);
    expect(E.isLeft(late) && late.left.type).toBe('StoreUnavailable');
    store = openSqliteEventStore({ file });
    expect(await store.headPosition()).toBe(80);
  });

  it('a crash of the writer thread answers StoreUnavailable (no hang), and so does every later append', async () => {
    await store.append(customerStream('k'), [feature('k')]);
    const big = Array.from({ length: 2_000 }, () => feature('k'));
    const batches = Array.from({ length: 5 }, (_, i) =>
      big.map((e) => ({ ...e, eventId: uuid(1_000_000 + (counter += 1)), customerId: `k${i}` })),
    );
    const inFlight = batches.map((batch, i) => store.append(customerStream(`k${i}`), batch));
    // Let the batches reach the writer, then kill it as a crash would (mid-commit or between commits).
    await new Promise((resolve) => setImmediate(resolve));
    await writerThreadOf(store).terminate();
    const results = await Promise.all(inFlight);
    for (const r of results) {
      // Each append either committed before the crash or is answered StoreUnavailable: never left hanging.
      if (E.isLeft(r)) expect(r.left.type).toBe('StoreUnavailable');
    }
    const after = await store.append(customerStream('k'), [feature('k')]);
    expect(E.isLeft(after) && after.left).toMatchObject({ type: 'StoreUnavailable' });
    await store.close();
    // The file holds whole appends only: every append is there completely or not at all.
    store = openSqliteEventStore({ file });
    const head = await store.headPosition();
    expect((head - 1) % 2_000).toBe(0);
    for (let i = 0; i < 5; i++) {
      const read = await store.readStream(customerStream(`k${i}`));
      const n = E.isRight(read) ? read.right.length : -1;
      expect(n === 0 || n === 2_000).toBe(true);
      // An acknowledged append is stored. One answered StoreUnavailable may have committed just before the
      // crash (the answer was lost, as with any crash between commit and reply): its retry tells which, and
      // never stores it twice.
      if (E.isRight(results[i]!)) expect(n).toBe(2_000);
      else {
        const retry = await store.append(customerStream(`k${i}`), batches[i]!);
        expect(E.isRight(retry) && retry.right.duplicate).toBe(n === 2_000);
        const again = await store.readStream(customerStream(`k${i}`));
        expect(E.isRight(again) && again.right.length).toBe(2_000);
      }
    }
  });

  it('a process that appends and never closes the store still exits, with its appends stored', () => {
    const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/index.js');
    const script = `
      const { openSqliteEventStore } = await import(${JSON.stringify(dist)});
      const store = openSqliteEventStore({ file: process.argv[1] });
      const r = await store.append('customer-exit', [${JSON.stringify(feature('exit'))}]);
      process.stdout.write(r._tag);`;
    const other = path.join(dir, 'exit.sqlite');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, other], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    expect(out).toBe('Right');
  });
});

// The same store with the group commit in the caller's thread (`writer: 'inline'`, as for ':memory:').
describe('SQLite event store: inline writer', () => {
  it('group-commits, refuses stale revisions and answers retries as duplicates, like the writer thread', async () => {
    const inline = openSqliteEventStore({ file: path.join(dir, 'inline.sqlite'), writer: 'inline' });
    try {
      const batch = [feature('i'), feature('i')];
      const [a, b, stale] = await Promise.all([
        inline.append(customerStream('i'), batch, { expectedRevision: 'no_stream' }),
        inline.append(customerStream('j'), [feature('j')]),
        inline.append(customerStream('i'), [feature('i')], { expectedRevision: 4 }),
      ]);
      expect(E.isRight(a) && a.right.positions).toEqual([1, 2]);
      expect(E.isRight(b) && b.right.positions).toEqual([3]);
      expect(E.isLeft(stale) && stale.left).toMatchObject({ type: 'WrongExpectedRevision', actual: 1 });
      const retry = await inline.append(customerStream('i'), batch, { expectedRevision: 'no_stream' });
      expect(E.isRight(retry) && retry.right).toMatchObject({ duplicate: true, positions: [1, 2] });
    } finally {
      await inline.close();
    }
  });
});

describe('SQLite event store: partitions of the log (parallel replay)', () => {
  it('splits the log by customer: each event in exactly one partition, in global order, as readAll reads it', async () => {
    // Customers whose ids differ at the start, in the middle and at the end, and one of a single character.
    const ids = [
      'a',
      'b7',
      'c-000001',
      'c-000002',
      'c-000010',
      'c-000011',
      'x-123',
      'y-123',
      'acme.eu',
      'ACME.eu',
    ];
    for (let round = 0; round < 3; round++)
      for (const id of ids)
        expect(E.isRight(await store.append(customerStream(id), [feature(id)]))).toBe(true);
    const all: StoredEvent[] = [];
    for await (const page of store.readAll({ batchSize: 7 })) all.push(...page);
    expect(all).toHaveLength(30);
    for (const count of [1, 2, 3, 5]) {
      const seen: StoredEvent[] = [];
      for (let index = 0; index < count; index++) {
        const mine: StoredEvent[] = [];
        for await (const page of store.readPartition({ batchSize: 4, partition: { index, count } }))
          mine.push(...page);
        // Every customer in the partition the JavaScript function names, every one of its events there.
        for (const e of mine) expect(customerPartition(e.event.customerId, count)).toBe(index);
        const positions = mine.map((e) => e.globalPosition);
        expect(positions).toEqual([...positions].sort((x, y) => x - y));
        seen.push(...mine);
      }
      seen.sort((x, y) => x.globalPosition - y.globalPosition);
      expect(seen).toEqual(all);
    }
    // Both halves get customers: c-000001 and c-000002 differ in their last character only.
    expect(customerPartition('c-000001', 2)).not.toBe(customerPartition('c-000002', 2));
    // after / until bound a partition like the whole log.
    const p0 = all.filter((e) => customerPartition(e.event.customerId, 2) === 0);
    const bounded: StoredEvent[] = [];
    for await (const page of store.readPartition({ after: 5, until: 20, partition: { index: 0, count: 2 } }))
      bounded.push(...page);
    expect(bounded).toEqual(p0.filter((e) => e.globalPosition > 5 && e.globalPosition <= 20));
  });

  it('refuses a partition that is not one of count', () => {
    for (const partition of [
      { index: 2, count: 2 },
      { index: -1, count: 2 },
      { index: 0, count: 0 },
      { index: 0, count: 1000 },
      { index: 0.5, count: 2 },
    ])
      expect(() => store.readPartition({ partition })).toThrow(RangeError);
  });
});
