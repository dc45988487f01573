import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testBrokers } from './test-broker.js';

/**
 * Runs the services as their own processes (ingest, projector with its query API, query, relay) at log level
 * trace, feeds them events that carry distinctive personal data and requests that carry API keys (valid, wrong,
 * in `Authorization` and `X-Api-Key`), provokes the error paths (invalid events echoing the data, wrong keys,
 * oversized and non-JSON bodies), and checks that none of those strings reaches any log line.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = {
  ingest: path.join(ROOT, 'services/ingest/dist/main.js'),
  projector: path.join(ROOT, 'services/projector/dist/main.js'),
  query: path.join(ROOT, 'services/query/dist/main.js'),
  relay: path.join(ROOT, 'services/relay/dist/main.js'),
};

const PII = {
  name: 'Zebulon Quaxworthy',
  email: 'zebulon.quaxworthy@pii-probe.example',
  phone: '+44 7700 900731',
  company: 'Quaxworthy Holdings',
  feedback: 'my secret diagnosis is xylophonitis',
  reason: 'quaxworthy-reason-text',
};
const WRONG_KEY = `crml_abcdefabcdef_${'Q'.repeat(43)}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-ledger-logs-e2e-'));
const children: ChildProcess[] = [];
const logs: Record<string, string> = {};

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a service; resolves with its URL once it logged one (or at once when `waitFor` is undefined). */
function start(
  name: keyof typeof MAIN,
  env: Record<string, string>,
  waitFor: RegExp | undefined,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN[name]], {
    env: {
      ...process.env,
      CRM_LEDGER_DATA_DIR: dir,
      CRM_LEDGER_PORT: '0',
      CRM_LEDGER_LOG_LEVEL: 'trace',
      CRM_LEDGER_SQLITE_SYNCHRONOUS: 'normal',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  logs[name] = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${logs[name]}`)), 30_000);
    const onData = (d: Buffer) => {
      logs[name] += d.toString();
      const m = waitFor === undefined ? null : waitFor.exec(logs[name]!);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      if (waitFor === undefined) resolve({ child, url: '' });
      else reject(new Error(`${name} exited:\n${logs[name]}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const event = (n: number, type: string, data: Record<string, unknown>) => ({
  eventId: `7f000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  type,
  schemaVersion: 1,
  customerId: 'c-pii-probe',
  occurredAt: `2024-03-0${n}T10:00:00Z`,
  data,
});

describe('no personal data and no secrets in the logs of the services', () => {
  it('ingest, projector, query and relay log requests and progress, but none of the probe strings', async () => {
    const ingest = await start(
      'ingest',
      { CRM_LEDGER_BODY_LIMIT: '64kb' },
      /listening on (http:\/\/[^;\s"]+)/,
    );
    const admin = fs.readFileSync(path.join(dir, 'admin.key'), 'utf8').trim();
    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...('x-api-key' in headers ? {} : { authorization: `Bearer ${admin}` }),
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const registered = event(1, 'CustomerRegistered', {
      segment: 'B2B',
      acquisitionChannel: 'referral',
      name: PII.name,
      email: PII.email,
      phone: PII.phone,
      companyName: PII.company,
    });
    const feedback = event(2, 'FeedbackGiven', { channel: 'email', text: PII.feedback });
    expect((await post(`${ingest.url}/v1/events`, registered)).status).toBe(201);
    expect(
      (
        await post(
          `${ingest.url}/v1/customers/c-pii-probe/events`,
          { events: [feedback] },
          {
            'x-api-key': admin,
          },
        )
      ).status,
    ).toBe(201);
    // error paths that carry the data or a key: invalid events, wrong keys, a bad batch, non-JSON, too large
    const invalid = {
      ...registered,
      eventId: 'not-a-uuid',
      data: { ...registered.data, segment: PII.reason },
    };
    expect((await post(`${ingest.url}/v1/events`, invalid)).status).toBe(400);
    expect(
      (await post(`${ingest.url}/v1/events`, registered, { authorization: `Bearer ${WRONG_KEY}` })).status,
    ).toBe(403);
    expect((await post(`${ingest.url}/v1/events`, registered, { 'x-api-key': WRONG_KEY })).status).toBe(403);
    // every item invalid (the feedback shares its customer with an invalid event, so it is not appended
    // either): 400, the issues of every item in one answer
    expect(
      (await post(`${ingest.url}/v1/events/batch`, { events: [invalid, feedback, { note: PII.reason }] }))
        .status,
    ).toBe(400);
    // mixed: the invalid event belongs to another customer, the feedback is a duplicate: 207 per item
    expect(
      (
        await post(`${ingest.url}/v1/events/batch`, {
          events: [{ ...invalid, customerId: 'c-pii-probe-other' }, feedback, { note: PII.reason }],
        })
      ).status,
    ).toBe(207);
    expect((await post(`${ingest.url}/v1/events`, `{"name":"${PII.name}",`)).status).toBe(400);
    expect((await post(`${ingest.url}/v1/events`, PII.email, { 'content-type': 'text/plain' })).status).toBe(
      415,
    );
    const huge = { ...registered, data: { ...registered.data, name: PII.name.repeat(5_000) } };
    // 413, or the connection closed by the server while the client still sends (what a 413 may look like to fetch)
    const tooLarge = await post(`${ingest.url}/v1/events`, huge).then(
      (r) => r.status,
      () => 413,
    );
    expect(tooLarge).toBe(413);

    const projector = await start('projector', {}, /query API listening on (http:\/\/[^;\s"]+)/);
    const query = await start('query', {}, /query API listening on (http:\/\/[^;\s"]+)/);
    const get = (base: string, p: string, key = admin) =>
      fetch(`${base}${p}`, { headers: { authorization: `Bearer ${key}` } });
    // the projector's read model catches up; both query APIs answer the 360 (whatever they show of the person)
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await get(projector.url, '/v1/customers/c-pii-probe')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect((await get(query.url, '/v1/customers/c-pii-probe?timeline=50')).status).toBe(200);
    expect((await get(query.url, '/v1/customers/c-pii-probe', WRONG_KEY)).status).toBe(403);
    expect((await get(query.url, `/v1/customers?segment=${encodeURIComponent(PII.reason)}`)).status).toBe(
      400,
    );

    const relay = await start(
      'relay',
      {
        CRM_LEDGER_KAFKA_BROKERS: testBrokers(),
        CRM_LEDGER_RELAY_MODE: 'catch-up',
        CRM_LEDGER_KAFKA_TOPIC_PREFIX: `logs${process.pid}`,
      },
      undefined,
    );
    await new Promise<void>((resolve) =>
      relay.child.exitCode !== null ? resolve() : relay.child.on('exit', () => resolve()),
    );
    expect(relay.child.exitCode, logs['relay']).toBe(0);
    await Promise.all([stop(ingest.child), stop(projector.child), stop(query.child)]);

    // the logs are there and say something (requests, progress), so the check below is not vacuous
    expect(logs['ingest']).toContain('incoming request');
    expect(logs['ingest']).toContain('"statusCode":403');
    expect(logs['projector']).toContain('incoming request');
    expect(logs['query']).toContain('incoming request');
    expect(logs['relay']).toContain('relay');
    // the secret part of crml_<id>_<secret>: base64url, so it may itself contain '_' (split('_')[2] was then
    // a fragment as short as one letter, found in any log)
    const secret = admin.replace(/^crml_[0-9a-f]+_/, '');
    expect(secret).toHaveLength(43);
    const probes = [...Object.values(PII), admin, secret, WRONG_KEY, 'Q'.repeat(43)];
    for (const [service, text] of Object.entries(logs)) {
      for (const probe of probes) expect(text.includes(probe), `${service} logged '${probe}'`).toBe(false);
    }
  }, 120_000);
});
