import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteCheckpointStore } from '../checkpoint-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-checkpoint-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('SQLite checkpoint store: tryLock (real file, real processes)', () => {
  it('one holder per name; freed by release and by close', async () => {
    const file = path.join(dir, 'a.db');
    const a = openSqliteCheckpointStore(file);
    const b = openSqliteCheckpointStore(file);
    const held = await a.tryLock('relay');
    expect(held).toBeDefined();
    expect(await b.tryLock('relay')).toBeUndefined();
    const other = await b.tryLock('exporter');
    expect(other).toBeDefined();
    // checkpoints themselves are not blocked by a lock
    await b.save('relay', 5);
    expect(await a.load('relay')).toBe(5);
    await held!.release();
    const taken = await b.tryLock('relay');
    expect(taken).toBeDefined();
    await b.close(); // closing frees every lock it holds
    expect(await a.tryLock('relay')).toBeDefined();
    await a.close();
  });

  it('a lock held by another process is freed when that process is killed', async () => {
    const file = path.join(dir, 'b.db');
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import Database from 'better-sqlite3';
         const db = new Database(${JSON.stringify(`${file}.relay.lock`)});
         db.exec('BEGIN EXCLUSIVE'); console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { cwd: path.resolve(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const store = openSqliteCheckpointStore(file);
    expect(await store.tryLock('relay')).toBeUndefined();
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(await store.tryLock('relay')).toBeDefined();
    await store.close();
  });
});
