import { spawn, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Right to erasure, end to end on the real `crm-ledger start` process: a customer with a distinctive name, email,
 * phone and free text is registered, then erased. Afterwards no byte of the ledger file, the read-model file or
 * the key store, no answer of the query API or the dashboard, no export and no log line holds their personal
 * data; the aggregates are the same as before; the key is gone from keys.db; later events are refused (410).
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-erasure-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PERSON = {
  name: 'Philomena Quackenbush-Zyx',
  email: 'philomena.zyx@erasure-test.example',
  phone: '+44 20 7946 0958',
  text: 'the wobbleflange arrived broken, call me on my mobile',
};
const SECRETS = [
  PERSON.name,
  PERSON.email,
  PERSON.phone,
  PERSON.text,
  'Philomena',
  'wobbleflange',
  'Quackenbush',
];
const leaks = (haystack: string | Buffer): string[] => {
  const texts =
    typeof haystack === 'string' ? [haystack] : [haystack.toString('utf8'), haystack.toString('latin1')];
  return SECRETS.filter((s) => texts.some((t) => t.includes(s)));
};
const fileBytes = (file: string) =>
  Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));

const VICTIM = 'erasure-victim';

/** The parts of the customer 360 answer the spec reads. */
interface C360 {
  readonly contact?: unknown;
  readonly service?: { readonly customer?: unknown };
  readonly success?: unknown;
  readonly experience?: unknown;
  readonly value?: { readonly customer?: Record<string, unknown> | null };
}
const ERASED_AT = '2024-06-01T10:00:00.000Z';
const ev = (customerId: string, type: string, occurredAt: string, data: unknown, schemaVersion = 1) => ({
  eventId: randomUUID(),
  type,
  schemaVersion,
  customerId,
  occurredAt,
  source: 'erasure-e2e',
  data,
});
function historyOf(customerId: string, personal: boolean) {
  const name = personal ? PERSON.name : `Someone Else ${customerId}`;
  const text = personal ? PERSON.text : 'fine product';
  return [
    ev(customerId, 'CustomerRegistered', '2024-01-02T10:00:00.000Z', {
      segment: 'B2C',
      acquisitionChannel: 'referral',
      name,
      email: personal ? PERSON.email : `${customerId}@example.org`,
      phone: personal ? PERSON.phone : '+1 555 0100',
    }),
    ev(customerId, 'PurchaseMade', '2024-01-03T10:00:00.000Z', {
      orderId: `o-${customerId}`,
      amount: { amountMinor: 12_345, currency: 'EUR' },
    }),
    ev(customerId, 'SurveyAnswered', '2024-01-04T10:00:00.000Z', {
      kind: 'NPS',
      surveyId: 's-1',
      score: 3,
      comment: text,
    }),
    ev(customerId, 'FeedbackGiven', '2024-01-05T10:00:00.000Z', { channel: 'email', sentiment: -0.8, text }),
    ev(
      customerId,
      'TicketOpened',
      '2024-01-06T10:00:00.000Z',
      {
        ticketId: `t-${customerId}`,
        channel: 'email',
        category: 'delivery',
        priority: 'high',
        subject: `${name}: ${text}`,
      },
      2,
    ),
    ev(customerId, 'TicketReplied', '2024-01-06T12:00:00.000Z', {
      ticketId: `t-${customerId}`,
      by: 'customer',
      body: `${text} -- ${name}, ${personal ? PERSON.phone : ''}`,
    }),
    ev(customerId, 'TicketResolved', '2024-01-07T12:00:00.000Z', { ticketId: `t-${customerId}` }),
  ];
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

describe('right to erasure (crm-ledger start, real SQLite files)', () => {
  it('after CustomerErased no file, answer, export or log holds the person; metrics unchanged; key gone', async () => {
    const dataDir = path.join(root, 'data');
    const child = spawn(
      process.execPath,
      [main, 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'debug'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const logs: string[] = [];
    child.stderr.on('data', (b: Buffer) => logs.push(b.toString('utf8')));
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`start exited with ${code}: ${logs.join('')}`)));
      createInterface({ input: child.stdout }).on('line', (l) => {
        logs.push(l);
        const m = /listening on (http:\/\/\S+)/.exec(l);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
    });
    try {
      const key = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const get = async (p: string) => {
        const res = await fetch(`${url}${p}`, { headers });
        return { status: res.status, text: await res.text() };
      };
      const post = async (events: unknown[]) => {
        const res = await fetch(`${url}/v1/events/batch`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ events }),
        });
        return { status: res.status, body: await res.json() };
      };
      const appended = await post([
        ...historyOf(VICTIM, true),
        ...historyOf('bystander-1', false),
        ...historyOf('bystander-2', false),
      ]);
      expect(appended.status).toBe(201);

      const until = async (what: string, ok: () => Promise<boolean>) => {
        const deadline = Date.now() + 20_000;
        while (!(await ok())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const c360 = async () => JSON.parse((await get(`/v1/customers/${VICTIM}`)).text) as C360;
      await until(
        'the projector',
        async () => (await c360()).value?.customer != null && (await c360()).service?.customer != null,
      );

      // before: the 360 shows the contact (decrypted at the edge), the stores only ever held ciphertext
      const before360 = await c360();
      expect(before360.contact).toEqual({
        name: PERSON.name,
        email: PERSON.email,
        phone: PERSON.phone,
        erased: false,
      });
      expect(leaks(fileBytes(path.join(dataDir, 'ledger.sqlite')))).toEqual([]);
      expect(leaks(fileBytes(path.join(dataDir, 'readmodel.sqlite')))).toEqual([]);
      const peek = new Database(path.join(dataDir, 'keys.db'), { readonly: true });
      const wrapped = peek
        .prepare<[string], { wrapped: Buffer }>('SELECT wrapped FROM customer_keys WHERE customer_id = ?')
        .get(VICTIM)!.wrapped;
      peek.close();
      expect(fileBytes(path.join(dataDir, 'keys.db')).includes(wrapped)).toBe(true);

      const window = '?from=2020-01-01&to=2030-01-01';
      const aggregates = [
        `/v1/aggregates/nps${window}`,
        `/v1/aggregates/service${window}`,
        `/v1/aggregates/contact-drivers${window}`,
        `/v1/aggregates/retention${window}`,
        `/v1/aggregates/perception-gap${window}`,
        `/v1/aggregates/pain-points${window}`,
        `/v1/aggregates/channels${window}`,
        '/v1/customers?asOf=2024-06-02T00:00:00Z&limit=500',
      ];
      const snapshot = async () => Promise.all(aggregates.map(async (p) => (await get(p)).text));
      const beforeAggregates = await snapshot();
      const metrics = (c: C360) => ({
        service: c.service,
        experience: c.experience,
        success: c.success,
        // the erasure is an event of the customer: it moves their last event and sets erased_at, nothing else
        value: { ...c.value, customer: { ...c.value?.customer, last_event_at: null, erased_at: null } },
      });

      // erase
      const erased = await post([ev(VICTIM, 'CustomerErased', ERASED_AT, { reason: 'customer_request' })]);
      expect(erased.status).toBe(201);
      await until(
        'the erasure to be projected',
        async () => (await c360()).value?.customer?.['last_event_at'] === ERASED_AT,
      );

      // the key is gone from keys.db and its WAL, bytes overwritten
      expect(fileBytes(path.join(dataDir, 'keys.db')).includes(wrapped)).toBe(false);
      // every answer: 360 (live and as of a past instant), timeline, lists, aggregates, dashboard pages
      const after360 = await c360();
      expect(after360.contact).toEqual({ name: null, email: null, phone: null, erased: true });
      expect(after360.value?.customer?.['erased_at']).toBe(ERASED_AT);
      expect(metrics(after360)).toEqual(metrics(before360));
      const answers = [
        JSON.stringify(after360),
        (await get(`/v1/customers/${VICTIM}?asOf=2024-03-01T00:00:00Z&timeline=1000`)).text,
        (await get(`/v1/customers/${VICTIM}?asOfPosition=3`)).text,
        ...(await snapshot()),
        ...(await Promise.all(
          ['/dashboard/', '/dashboard/customer.html', '/dashboard/customer.js', '/dashboard/api.js'].map(
            async (p) => (await get(p)).text,
          ),
        )),
      ];
      for (const a of answers) expect(leaks(a)).toEqual([]);
      expect(await snapshot()).toEqual(beforeAggregates);

      // a later event about the erased customer is refused, a retry of the history is still a duplicate
      const late = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify(
          ev(VICTIM, 'PurchaseMade', '2024-07-01T10:00:00.000Z', {
            orderId: 'late',
            amount: { amountMinor: 1, currency: 'EUR' },
          }),
        ),
      });
      expect(late.status).toBe(410);
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe('customer_erased');

      // the export (decrypted, and as stored) and every file
      const exported = await run(['export', '--data-dir', dataDir]);
      expect(exported.code).toBe(0);
      const lines = exported.stdout
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              erased?: boolean;
              event: { customerId: string; data: Record<string, unknown> };
            },
        );
      expect(lines).toHaveLength(22);
      const victimRegistered = lines.find((l) => l.event.customerId === VICTIM)!;
      expect(victimRegistered).toMatchObject({
        erased: true,
        event: { data: { name: null, email: null, phone: null, segment: 'B2C' } },
      });
      expect(lines.find((l) => l.event.customerId === 'bystander-1')!.event.data.name).toBe(
        'Someone Else bystander-1',
      );
      expect(leaks(exported.stdout)).toEqual([]);
      const raw = await run(['export', '--data-dir', dataDir, '--keep-ciphertext', '--customer', VICTIM]);
      expect(raw.stdout.trim().split('\n')).toHaveLength(8);
      expect(leaks(raw.stdout)).toEqual([]);
      // the hash chains still verify: the stored bytes are ciphertext, untouched by the key destruction
      const verified = await run(['verify', '--data-dir', dataDir]);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      for (const f of ['ledger.sqlite', 'readmodel.sqlite', 'keys.db'])
        expect(leaks(fileBytes(path.join(dataDir, f)))).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    // the captured pino logs of the whole run (debug level)
    expect(logs.join('\n')).toContain('erasure applied: customer key destroyed');
    expect(leaks(logs.join('\n'))).toEqual([]);
  }, 150_000); // a real process, several CLI runs: 38-50 s on the shared 2-core machine under load
});
