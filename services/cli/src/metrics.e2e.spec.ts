import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** `GET /metrics` of a real `crm-ledger start`, scraped as Prometheus would (text exposition format). */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-metrics-'));
let server: ChildProcess | undefined;
let url = '';
let key = '';

beforeAll(async () => {
  const dataDir = path.join(root, 'data');
  server = spawn(
    process.execPath,
    [main, 'start', '--seed-if-empty', '--seed-customers', '40', '--data-dir', dataDir, '--port', '0'],
    {
      env: { ...process.env, CRM_LEDGER_LOG_FORMAT: 'json', CRM_LEDGER_CLV_REFIT_HOURS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  server.stderr!.resume();
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no banner in 180 s')), 180_000);
    createInterface({ input: server!.stdout! }).on('line', (line) => {
      const m = /^crm-ledger listening on (http:\/\/\S+)/.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  key = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
}, 200_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  server?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** The samples of a scrape: `name{labels}` → value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function eventually(check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('GET /metrics', () => {
  it('reports projection lag per view, and it falls to 0 once the views caught up', async () => {
    const first = await scrape();
    const head = first.get('crm_ledger_log_head_position')!;
    expect(head).toBeGreaterThan(1000);
    for (const view of ['service', 'success', 'experience', 'value'])
      expect(first.has(`crm_ledger_projection_lag_events{view="${view}"}`)).toBe(true);
    await eventually(async () => {
      const s = await scrape();
      return ['service', 'success', 'experience', 'value'].every(
        (view) => s.get(`crm_ledger_projection_lag_events{view="${view}"}`) === 0,
      );
    });
    const caughtUp = await scrape();
    expect(caughtUp.get('crm_ledger_projection_position{view="value"}')).toBe(
      caughtUp.get('crm_ledger_log_head_position'),
    );
  }, 180_000);

  it('/ready reports the same projection lag per view, 0 once caught up, and keeps its status', async () => {
    const ready = async () => {
      const res = await fetch(`${url}/ready`);
      expect(res.status).toBe(200);
      return (await res.json()) as {
        status: string;
        lag?: { head: number; views: { view: string; events: number }[] };
      };
    };
    const first = await ready();
    expect(first.status).toBe('ready');
    expect(first.lag?.head).toBeGreaterThan(1000);
    expect(first.lag?.views.map((v) => v.view)).toEqual(['service', 'success', 'experience', 'value']);
    for (const v of first.lag!.views) expect(typeof v.events).toBe('number');
    await eventually(async () => (await ready()).lag!.views.every((v) => v.events === 0));
    const caughtUp = await ready();
    expect(caughtUp.lag!.views.every((v) => v.events === 0)).toBe(true);
    expect(caughtUp.lag!.head).toBe((await scrape()).get('crm_ledger_log_head_position'));
  }, 180_000);

  it('counts appended events, duplicates and refusals by error code', async () => {
    const event = {
      eventId: '7d9a3c1e-5b2f-4e8a-9c1d-3f2e1a0b9c8d',
      type: 'FeatureAdopted',
      schemaVersion: 1,
      customerId: 'metrics-1',
      occurredAt: '2024-05-03T10:00:00Z',
      data: { feature: 'reports' },
    };
    const post = (auth: boolean) =>
      fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(event),
      });
    const before = await scrape();
    expect((await post(true)).status).toBe(201);
    expect((await post(true)).status).toBe(200);
    expect((await post(false)).status).toBe(401);
    const after = await scrape();
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('crm_ledger_events_appended_total{result="new"}')).toBe(1);
    expect(delta('crm_ledger_events_appended_total{result="duplicate"}')).toBe(1);
    expect(delta('crm_ledger_http_errors_total{code="unauthenticated",status="401"}')).toBe(1);
    expect(delta('crm_ledger_http_requests_total{route="/v1/events",method="POST",status="201"}')).toBe(1);
    expect(after.get('crm_ledger_append_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    // no customer id or key in any label
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).not.toContain('metrics-1');
    expect(text).not.toContain(key);
  }, 60_000);
});
