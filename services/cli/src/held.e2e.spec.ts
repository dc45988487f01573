import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Failure isolation end to end (issue #14), against a real `crm-ledger start` process: a test-only fault
 * (CRM_LEDGER_TEST_PROJECTION_FAULT) makes the service view throw for one event. Only that customer is held;
 * the others keep up with new appends; /ready says degraded; a replay holds the same customer; after the
 * fault is removed, `crm-ledger held retry` catches the customer up; `crm-ledger verify` still passes.
 */
const MAIN = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-held-e2e-'));
const dataDir = path.join(root, 'data');
const POISON = '14e2e000-0000-4000-8000-00000000dead';
const FAULT = { CRM_LEDGER_TEST_PROJECTION_FAULT: `service:${POISON}` };
let server: { child: ChildProcess; url: string } | undefined;

afterAll(async () => {
  await stop();
  rmSync(root, { recursive: true, force: true });
});

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args, '--data-dir', dataDir],
      { timeout: 120_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

function start(env: Record<string, string> = {}): Promise<void> {
  const child = spawn(
    process.execPath,
    [MAIN, 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'error'],
    {
      env: { ...process.env, CRM_LEDGER_CLV_REFIT_HOURS: '0', CRM_LEDGER_RATE_LIMIT_MAX: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start within 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /crm-ledger listening on (http:\/\/\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        server = { child, url: m[1]! };
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening:\n${out}`));
    });
  });
}

async function stop(): Promise<void> {
  const s = server;
  server = undefined;
  if (s === undefined || s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.on('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

const key = () => readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
let serial = 0;

async function open(customerId: string, ticketId: string, eventId?: string): Promise<void> {
  serial++;
  const res = await fetch(`${server!.url}/v1/customers/${customerId}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      events: [
        {
          eventId: eventId ?? `14e2e000-0000-4000-8000-${serial.toString(16).padStart(12, '0')}`,
          type: 'TicketOpened',
          schemaVersion: 2,
          customerId,
          occurredAt: new Date(Date.UTC(2024, 4, 1, 0, serial)).toISOString(),
          data: { ticketId, channel: 'chat', category: 'billing', priority: 'normal' },
        },
      ],
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function customer(
  id: string,
): Promise<{ tickets: string[]; stale: { view: string; eventId: string }[] }> {
  const res = await fetch(`${server!.url}/v1/customers/${id}`, {
    headers: { authorization: `Bearer ${key()}` },
  });
  const body = (await res.json()) as {
    service: { tickets: { ticket_id: string }[] };
    stale: { view: string; eventId: string }[];
  };
  return { tickets: body.service.tickets.map((t) => t.ticket_id).sort(), stale: body.stale };
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const until = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ready = async () =>
  (await (await fetch(`${server!.url}/ready`)).json()) as { status: string; count?: number };

describe('crm-ledger start with a view that throws for one event', () => {
  it('holds only that customer, keeps the others flowing, reports degraded, replays the same, and catches up after retry', async () => {
    await start(FAULT);
    await open('ann', 't1');
    await open('bob', 't1');
    await open('ann', 't2', POISON);
    expect(await eventually(ready, (r) => r.status === 'degraded')).toMatchObject({
      status: 'degraded',
      count: 1,
    });
    // Other customers keep up with new appends; the held one's later events wait.
    await open('bob', 't2');
    await open('ann', 't3');
    expect(
      (
        await eventually(
          () => customer('bob'),
          (c) => c.tickets.length === 2,
        )
      ).tickets,
    ).toEqual(['t1', 't2']);
    const ann = await customer('ann');
    expect(ann.tickets).toEqual(['t1']);
    expect(ann.stale).toEqual([expect.objectContaining({ view: 'service', eventId: POISON })]);
    expect((await customer('bob')).stale).toEqual([]);

    const listed = await run(['held']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^service\\tann\\t.*${POISON}`, 'm'));
    await stop();

    // A replay of the same log (the fault still there) holds the same customer.
    const replayed = await run(['replay', '--threads', '1'], FAULT);
    expect(replayed.code, replayed.stderr).toBe(0);
    const again = await run(['held', '--json']);
    expect(
      again.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { customerId: string; eventId: string }),
    ).toEqual([expect.objectContaining({ customerId: 'ann', eventId: POISON })]);

    // The fix: start without the fault, ask a retry: the customer catches up, /ready is ready again.
    const retry = await run(['held', 'retry', 'ann']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('retry asked for ann (service)');
    await start();
    expect(
      (
        await eventually(
          () => customer('ann'),
          (c) => c.tickets.length === 3,
        )
      ).tickets,
    ).toEqual(['t1', 't2', 't3']);
    expect((await customer('ann')).stale).toEqual([]);
    // Ready again, with nothing degraded (since /ready carries the projection lag, only `status` and the absence of
    // a reason are compared).
    const after = await ready();
    expect(after).toMatchObject({ status: 'ready' });
    expect(after).not.toHaveProperty('reason');
    await stop();
    expect((await run(['held'])).stdout).toContain('no customer is held');

    const verified = await run(['verify']);
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
  }, 120_000);

  it('held and held retry explain themselves (--help) and refuse a wrong customer id (exit 2)', async () => {
    const help = await run(['held', '--help']);
    expect(help.stdout).toContain('crm-ledger held retry');
    const wrong = await run(['held', 'retry', '_bad id']);
    expect(wrong.code).toBe(2);
  });
});
