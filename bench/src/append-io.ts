/**
 * Where the bytes of an append go: the same rows inserted with plain better-sqlite3 (the store's schema and
 * pragmas: WAL, wal_autocheckpoint = 10000 pages) in three ways, and the bytes the process wrote per event
 * (/proc/self/io: wchar through write(2), write_bytes to storage) beside the bytes the file holds per event:
 * - one transaction per customer (what `crm-ledger seed` and one append per customer do without group commit),
 * - one transaction per 10,000 rows (the raw limit of the append bench),
 * - one transaction per customer without the unique index on event_id (random UUIDs: every event of a commit
 *   lands on a different leaf page of that index, and each dirtied page is written whole to the WAL, then
 *   again by the checkpoint).
 * The store itself (`openSqliteEventStore`, its writer thread grouping concurrent appends) is measured beside
 * them at 1 and 64 appends in flight. No timing: bytes only.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { GENESIS_LINK, canonicalJson, chainLink } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import { EVENTS_DDL, INSERT_EVENT_SQL, openSqliteEventStore, pragmas } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { runMain, tempDir } from './lib/cleanup.js';
import { ioSince, machine, readIo } from './lib/io.js';

const HELP = `Usage: node bench/dist/append-io.js [options]

Bytes written per event by appends: plain better-sqlite3 (per customer, per 10,000 rows, per customer without
the event_id index) and the store (1 and 64 appends in flight), synchronous = normal.

Options:
  --events <n>     target number of events (default 200000)
  --customers <n>  customers (default events / 100)
  --out <file>     write the results as JSON there
  --smoke          ~3,000 events (CI)
  --help
`;

type Row = [string, number, string, string, string, string, string, string];

function files(file: string): number {
  let bytes = 0;
  for (const f of [file, `${file}-wal`])
    try {
      bytes += statSync(f).size;
    } catch {
      // none
    }
  return bytes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      customers: { type: 'string' },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.smoke) Object.assign(values, { events: '3000', customers: '30' });
  const target = Number(values.events);
  const customers = Number(values.customers ?? Math.max(1, Math.round(target / 100)));
  const histories = [...generateHistory({ seed: 42, customers, targetEvents: target })];
  const events = histories.reduce((n, h) => n + h.events.length, 0);
  const perCustomer: Row[][] = histories.map((h) => {
    const stream = customerStream(h.customerId);
    let link = GENESIS_LINK;
    return h.events.map((e, revision): Row => {
      const body = canonicalJson(e);
      link = chainLink(link, stream, revision, body);
      return [stream, revision, e.eventId, e.type, e.customerId, '2026-01-01T00:00:00.000Z', body, link];
    });
  });
  const dir = tempDir('crm-ledger-bench-append-io-');
  const results: Record<string, unknown>[] = [];
  const record = (name: string, file: string, io: ReturnType<typeof ioSince>) => {
    const r = {
      name,
      wcharBytesPerEvent: io === null ? null : Math.round(io.wchar / events),
      writtenBytesPerEvent: io === null ? null : Math.round(io.writeBytes / events),
      fileBytesPerEvent: Math.round(files(file) / events),
    };
    results.push(r);
    process.stdout.write(
      `${name}: ${r.wcharBytesPerEvent ?? '?'} B/event through write(2), ${r.writtenBytesPerEvent ?? '?'} B/event to disk; the file holds ${r.fileBytesPerEvent} B/event\n`,
    );
  };
  const raw = (name: string, per: 'customer' | 'rows', ddl: string) => {
    const file = path.join(dir, `${results.length}.sqlite`);
    const io0 = readIo();
    const db = new Database(file);
    for (const p of pragmas('normal')) db.pragma(p);
    db.exec(ddl);
    const insert = db.prepare<Row>(INSERT_EVENT_SQL);
    const tx = db.transaction((rows: readonly Row[]) => {
      for (const r of rows) insert.run(...r);
    });
    let buffer: Row[] = [];
    for (const rows of perCustomer) {
      buffer.push(...rows);
      if (per === 'customer' || buffer.length >= 10_000) {
        tx(buffer);
        buffer = [];
      }
    }
    if (buffer.length > 0) tx(buffer);
    db.close();
    record(name, file, ioSince(io0));
  };
  raw('better-sqlite3, a transaction per customer', 'customer', EVENTS_DDL);
  raw('better-sqlite3, a transaction per 10,000 rows', 'rows', EVENTS_DDL);
  raw(
    'better-sqlite3, a transaction per customer, no event_id index',
    'customer',
    EVENTS_DDL.replace(/CREATE UNIQUE INDEX IF NOT EXISTS events_event_id[^;]*;/, ''),
  );
  for (const inflight of [1, 64]) {
    const file = path.join(dir, `store-${inflight}.sqlite`);
    const io0 = readIo();
    const store = openSqliteEventStore({ file, synchronous: 'normal' });
    let next = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (next < histories.length) {
          const h = histories[next++]!;
          const r = await store.append(customerStream(h.customerId), h.events, {
            expectedRevision: 'no_stream',
          });
          if (E.isLeft(r)) throw new Error(`append ${h.customerId}: ${JSON.stringify(r.left)}`);
        }
      }),
    );
    await store.close();
    record(`the store, one append per customer, ${inflight} in flight`, file, ioSince(io0));
  }
  rmSync(dir, { recursive: true, force: true });
  const report = {
    benchmark: 'append-io',
    date: new Date().toISOString(),
    command: `node bench/dist/append-io.js ${process.argv.slice(2).join(' ')}`,
    machine: machine(),
    events,
    customers,
    sqlite: pragmas('normal'),
    results,
  };
  if (values.out !== undefined) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  }
}

runMain(main);
