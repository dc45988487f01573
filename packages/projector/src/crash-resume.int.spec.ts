import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory } from '@crm-ledger/synthetic';
import { replay } from './replay.js';
import { appendInterleaved, dumpViews } from './test-history.js';

const child = path.join(import.meta.dirname, '..', 'test', 'replay-child.mjs');

/** Runs the replay child and SIGKILLs it once it has committed `killAfter` batches. */
function replayAndKill(eventsFile: string, readModelFile: string, killAfter: number) {
  return new Promise<{ signal: NodeJS.Signals | null; committed: number[] }>((resolve, reject) => {
    const proc = spawn(process.execPath, [child, eventsFile, readModelFile, '15'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const committed: number[] = [];
    let buffer = '';
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const l of lines) if (/^\d+$/.test(l)) committed.push(Number(l));
      if (committed.length >= killAfter) proc.kill('SIGKILL');
    });
    proc.on('error', reject);
    proc.on('exit', (_code, signal) =>
      signal === 'SIGKILL'
        ? resolve({ signal, committed })
        : reject(new Error(`child ended by itself: ${stderr}`)),
    );
  });
}

describe('replay crash-resume', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'projector-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a replay killed (SIGKILL) mid-way and restarted gives the rows of a clean rebuild', async () => {
    const eventsFile = path.join(dir, 'events.sqlite');
    const store = openSqliteEventStore({ file: eventsFile });
    const total = await appendInterleaved(
      store,
      generateHistory({ seed: 9, customers: 40, targetEvents: 4_000 }),
    );
    const head = await store.headPosition();

    const clean = openSqliteReadModel({ file: path.join(dir, 'clean.sqlite') });
    await replay({ store, readModel: clean });
    const expected = await dumpViews(clean);
    await clean.close();

    const crashedFile = path.join(dir, 'crashed.sqlite');
    // Live views exist from an earlier build: they must stay served, untouched, while the rebuild runs.
    const before = openSqliteReadModel({ file: crashedFile });
    await replay({ store, readModel: before, until: Math.floor(head / 2) });
    const liveBefore = await dumpViews(before);
    await before.close();

    const { committed } = await replayAndKill(eventsFile, crashedFile, 4);
    const crashed = openSqliteReadModel({ file: crashedFile });
    const shadowAt = await crashed.checkpoint('service', 'shadow');
    expect(await crashed.rebuildInProgress('service')).toBe(true);
    expect(shadowAt).toBeGreaterThanOrEqual(committed[committed.length - 1]!);
    expect(shadowAt).toBeLessThan(head);
    expect(await dumpViews(crashed)).toEqual(liveBefore);

    const resumed = await replay({ store, readModel: crashed });
    expect(resumed.events).toBe(total - shadowAt);
    expect(await crashed.rebuildInProgress('service')).toBe(false);
    expect(await dumpViews(crashed)).toEqual(expected);
    expect(await crashed.checkpoint('value')).toBe(head);
    await crashed.close();
    await store.close();
  });
});
