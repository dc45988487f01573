import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/sqlite';

/** Runs the built `crm-ledger` command as a child process. */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-replay-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

async function checkpoints(dataDir: string): Promise<Record<string, number>> {
  const rm = openSqliteReadModel({ file: path.join(dataDir, 'readmodel.sqlite'), readonly: true });
  try {
    const rows = await rm.sql({
      sqlite: "SELECT name, checkpoint FROM readmodel_projections WHERE target = 'live' ORDER BY name",
      postgres: '',
    });
    return Object.fromEntries(rows.map((r) => [String(r['name']), Number(r['checkpoint'])]));
  } finally {
    await rm.close();
  }
}

describe('crm-ledger replay', () => {
  const dataDir = path.join(root, 'data');

  it('rebuilds every view up to the head, then one view as of a position', async () => {
    const seeded = await run([
      'seed',
      '--data-dir',
      dataDir,
      '--customers',
      '20',
      '--sqlite-synchronous',
      'normal',
    ]);
    expect(seeded.code, seeded.stderr).toBe(0);
    const all = await run(['replay', '--data-dir', dataDir]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(
      /replayed \d+ events up to position (\d+) into service, success, experience, value/,
    );
    const head = Number(/up to position (\d+)/.exec(all.stdout)![1]);
    expect(await checkpoints(dataDir)).toEqual({
      experience: head,
      service: head,
      success: head,
      value: head,
    });

    // The same rebuild in this thread only (the default above used worker threads): the same checkpoints.
    const single = await run(['replay', '--data-dir', dataDir, '--threads', '1']);
    expect(single.code, single.stderr).toBe(0);
    expect(single.stdout).toContain(`up to position ${head} into service, success, experience, value`);

    // fewer events than the live view: refused (exit 1, nothing changed) until confirmed with --allow-fewer
    const refused = await run(['replay', '--data-dir', dataDir, '--projection', 'value', '--until', '100']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`cut as known at position 100: selects 100 events up to position 100`);
    expect(refused.stderr).toContain('replay refused: the cut selects 100 events, fewer than the');
    expect(refused.stderr).toContain('--allow-fewer');
    expect((await checkpoints(dataDir))['value']).toBe(head);
    const dry = await run(['replay', '--data-dir', dataDir, '--as-known-at', '100', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      'dry run: nothing rebuilt; a rebuild would be refused without --allow-fewer',
    );
    expect((await checkpoints(dataDir))['value']).toBe(head);
    const past = await run([
      'replay',
      '--data-dir',
      dataDir,
      '--projection',
      'value',
      '--until',
      '100',
      '--allow-fewer',
    ]);
    expect(past.code, past.stderr).toBe(0);
    expect(await checkpoints(dataDir)).toEqual({
      experience: head,
      service: head,
      success: head,
      value: 100,
    });
  }, 180_000);

  it('refuses a cut that selects nothing (exit 1)', async () => {
    const empty = await run(['replay', '--data-dir', dataDir, '--as-of', '1990-01-01']);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('cut as of 1990-01-01T23:59:59.999Z: selects 0 events');
    expect(empty.stderr).toContain('the cut selects no event: the rebuilt views would be empty');
  }, 60_000);

  it('rejects a wrong --projection, --until or cut with a usage error (exit 2)', async () => {
    const time = await run(['replay', '--data-dir', dataDir, '--until', '2025-06-30T00:00:00Z']);
    expect(time.code).toBe(2);
    expect(time.stderr).toContain('--until: takes a global position only');
    expect(time.stderr).toContain('--as-of 2025-06-30T00:00:00Z');
    const asOf = await run(['replay', '--data-dir', dataDir, '--as-of', '30/06/2025']);
    expect(asOf.code).toBe(2);
    expect(asOf.stderr).toContain('--as-of: an instant (ISO-8601');
    const both = await run(['replay', '--data-dir', dataDir, '--until', '5', '--as-known-at', '5']);
    expect(both.code).toBe(2);
    // export takes the same cut with the same parser: a date, or an instant with an offset
    const exportTime = await run(['export', '--data-dir', dataDir, '--until', '2026-12-03']);
    expect(exportTime.code).toBe(2);
    expect(exportTime.stderr).toContain('--as-of 2026-12-03');
    const exportDate = await run(['export', '--data-dir', dataDir, '--as-of', '2026-12-03']);
    expect(exportDate.code, exportDate.stderr).toBe(0);
    expect(exportDate.stderr).toContain('as of 2026-12-03T23:59:59.999Z');
    const exportKnown = await run([
      'export',
      '--data-dir',
      dataDir,
      '--as-known-at',
      '10',
      '--as-of',
      '2099-01-01T00:00:00+02:00',
    ]);
    expect(exportKnown.code, exportKnown.stderr).toBe(0);
    expect(exportKnown.stdout.trim().split('\n')).toHaveLength(10);
    const wrong = await run(['replay', '--data-dir', dataDir, '--projection', 'sales']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--projection');
    const until = await run(['replay', '--data-dir', dataDir, '--until', 'yesterday']);
    expect(until.code).toBe(2);
    expect(until.stderr).toContain('--until');
    const threads = await run(['replay', '--data-dir', dataDir, '--threads', '0']);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain('--threads');
  }, 180_000);

  // Issue 23: an agent reply dated before its ticket was opened (recorded last) was counted in the state but
  // its ticket row was written only when the same batch had touched the ticket: `--batch-size 1` showed 1
  // agent reply, `--batch-size 2000` showed 2. The rows must not depend on the batch size.
  it('gives the same ticket rows with --batch-size 1 and 2000 when a reply is dated before its ticket', async () => {
    const dir = path.join(root, 'reply-before-open');
    const file = path.join(root, 'reply-before-open.ndjson');
    const ev = (i: number, type: string, schemaVersion: number, occurredAt: string, data: object) =>
      JSON.stringify({
        eventId: `00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`,
        type,
        schemaVersion,
        customerId: 'acme',
        occurredAt,
        data,
      });
    writeFileSync(
      file,
      [
        ev(1, 'TicketOpened', 2, '2024-05-01T09:00:00Z', {
          ticketId: 't1',
          channel: 'email',
          category: 'billing',
          priority: 'normal',
        }),
        ev(2, 'TicketReplied', 1, '2024-05-01T09:30:00Z', { ticketId: 't1', by: 'agent' }),
        ev(3, 'TicketReplied', 1, '2024-05-01T08:00:00Z', { ticketId: 't1', by: 'agent' }),
      ].join('\n'),
    );
    const imported = await run(['import', file, '--data-dir', dir, '--sqlite-synchronous', 'normal']);
    expect(imported.code, imported.stderr).toBe(0);
    const ticket = async (): Promise<Record<string, unknown>> => {
      const rm = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite'), readonly: true });
      try {
        const rows = await rm.sql({
          sqlite: 'SELECT agent_replies, first_reply_at FROM service_tickets',
          postgres: '',
        });
        expect(rows).toHaveLength(1);
        return rows[0]!;
      } finally {
        await rm.close();
      }
    };
    const seen: Record<string, unknown>[] = [];
    for (const batch of ['1', '2000']) {
      const r = await run(['replay', '--data-dir', dir, '--threads', '1', '--batch-size', batch]);
      expect(r.code, r.stderr).toBe(0);
      seen.push(await ticket());
    }
    expect(seen[0]).toEqual({ agent_replies: 2, first_reply_at: '2024-05-01T09:30:00.000Z' });
    expect(seen[1]).toEqual(seen[0]);
  });
});
