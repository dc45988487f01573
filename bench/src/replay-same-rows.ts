/**
 * Determinism check at benchmark scale: replays one event store with 1 thread and with N threads into two
 * fresh read models, then compares every table (row count and an order-independent sum of row hashes) and
 * the checkpoints. Exits 1 on any difference. Uses the store the replay bench prepared (its cache file).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { replay } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { customerStream } from '@crm-ledger/events';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { runMain, tempDir } from './lib/cleanup.js';

const HELP = `Usage: node bench/dist/replay-same-rows.js --store <file> [--threads <n>]
       node bench/dist/replay-same-rows.js --smoke   (a throw-away store of ~3,000 events; CI)

Replays the SQLite event store <file> into two fresh read models, single-thread and with <n> worker threads
(default 2), and compares every table and checkpoint. Exit code 1 if anything differs.
The replay bench leaves its prepared stores in $TMPDIR/crm-ledger-bench (events-seed42-c10000-e1000000.sqlite).
`;

/** Table name -> "rows sum": the sum (mod 2^64) of the first 64 bits of each row's SHA-256, in any order. */
function digest(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true });
  const out = new Map<string, string>();
  try {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'readmodel_projections' ORDER BY name",
      )
      .all() as { name: string }[];
    for (const { name } of tables) {
      let sum = 0n;
      let rows = 0;
      for (const row of db.prepare(`SELECT * FROM "${name}"`).raw(true).iterate()) {
        const h = createHash('sha256').update(JSON.stringify(row)).digest('hex').slice(0, 16);
        sum = (sum + BigInt(`0x${h}`)) & 0xffffffffffffffffn;
        rows++;
      }
      out.set(name, `${rows} rows, sum ${sum.toString(16)}`);
    }
    out.set(
      'readmodel_projections',
      JSON.stringify(
        db.prepare('SELECT name, target, checkpoint FROM readmodel_projections ORDER BY name, target').all(),
      ),
    );
  } finally {
    db.close();
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' },
      threads: { type: 'string', default: '2' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const storeFile = values.smoke ? await smokeStore() : values.store;
  const threads = Number(values.threads);
  if (storeFile === undefined || !existsSync(storeFile)) throw new Error(`--store: no such file\n\n${HELP}`);
  if (!Number.isSafeInteger(threads) || threads < 2) throw new Error('--threads must be an integer >= 2');
  const dir = tempDir('crm-ledger-same-rows-');
  {
    const digests: Map<string, string>[] = [];
    for (const n of [1, threads]) {
      const file = path.join(dir, `readmodel-${n}.sqlite`);
      const store = openSqliteEventStore({ file: storeFile, synchronous: 'normal', writer: 'inline' });
      const readModel = openSqliteReadModel({ file, synchronous: 'normal' });
      const r = await replay({
        store,
        readModel,
        ...(n > 1 ? { parallel: { storeFile, readModelFile: file, synchronous: 'normal', threads: n } } : {}),
      });
      await readModel.close();
      await store.close();
      process.stdout.write(`${n} thread(s): ${r.events} events, ${r.eventsPerSecond} events/s\n`);
      digests.push(digest(file));
    }
    const [a, b] = digests as [Map<string, string>, Map<string, string>];
    let same = a.size === b.size;
    for (const [table, d] of a) {
      const other = b.get(table);
      const eq = other === d;
      same &&= eq;
      process.stdout.write(
        `${eq ? 'same' : 'DIFFERENT'}  ${table}: ${d}${eq ? '' : ` vs ${other ?? 'missing'}`}\n`,
      );
    }
    process.stdout.write(
      same ? `\nevery table and checkpoint identical (1 vs ${threads} threads)\n` : '\nDIFFERENCES\n',
    );
    if (!same) process.exitCode = 1;
  }
}

/** A small event store (30 customers, ~3,000 events) in a temporary directory. */
async function smokeStore(): Promise<string> {
  const file = path.join(tempDir('crm-ledger-same-rows-store-'), 'events.sqlite');
  const store = openSqliteEventStore({ file, synchronous: 'normal', validation: 'envelope' });
  for (const h of generateHistory({ seed: 42, customers: 30, targetEvents: 3000 })) {
    const r = await store.append(customerStream(h.customerId), h.events);
    if (r._tag === 'Left') throw new Error(`append failed: ${JSON.stringify(r.left)}`);
  }
  await store.close();
  return file;
}

runMain(main);
