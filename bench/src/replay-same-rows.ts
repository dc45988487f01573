/**
 * Determinism check at benchmark scale: replays one event store with 1 thread and with N threads into two
 * fresh read models, then compares every table (row count and an order-independent sum of row hashes) and
 * the checkpoints. Exits 1 on any difference. Uses the store the replay bench prepared (its cache file).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { replay } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/readmodel-sqlite';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';

const HELP = `Usage: node bench/dist/replay-same-rows.js --store <file> [--threads <n>]

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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const storeFile = values.store;
  const threads = Number(values.threads);
  if (storeFile === undefined || !existsSync(storeFile)) throw new Error(`--store: no such file\n\n${HELP}`);
  if (!Number.isSafeInteger(threads) || threads < 2) throw new Error('--threads must be an integer >= 2');
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-same-rows-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
