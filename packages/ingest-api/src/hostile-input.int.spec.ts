import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpServer,
  ErrorBody,
  generateApiKey,
  memoryApiKeyStore,
  type HttpApp,
} from '@crm-ledger/http-kit';
import { openSqliteEventStore, type SqliteEventStore } from '@crm-ledger/sqlite';
import { registerIngestRoutes } from './routes.js';

/**
 * Hostile input against the ingest routes on a real SQLite store. Requests go through `fastify.inject` (the
 * full request path: content-type parsing, body limit, JSON parsing, validation, routes, error handler; a
 * socket adds nothing to what is checked here), except the oversized bodies and deep nesting, which are also
 * sent over a real socket. Properties: the answer is never a 5xx, every error has the stable shape (with zod
 * issues for invalid events), and a refused request leaves the store head where it was.
 */
const BODY_LIMIT = 64 * 1024;
const MAX_EVENTS = 20;

const dir = mkdtempSync(path.join(tmpdir(), 'ingest-hostile-'));
let store: SqliteEventStore;
let app: HttpApp;
let key: string;
let serial = 0;

beforeAll(async () => {
  store = openSqliteEventStore({ file: path.join(dir, 'ledger.sqlite'), synchronous: 'normal' });
  const k = generateApiKey('writer', ['append'], '2024-01-01T00:00:00Z');
  key = k.key;
  app = await createHttpServer({
    logger: pino({ level: 'silent' }),
    title: 't',
    version: '1',
    bodyLimit: BODY_LIMIT,
  });
  registerIngestRoutes(app, {
    store,
    keys: memoryApiKeyStore([k.record]),
    limits: { bodyLimit: BODY_LIMIT, maxEventsPerBatch: MAX_EVENTS },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const nextId = () => {
  serial += 1;
  return `5e000000-0000-4000-8000-${String(serial).padStart(12, '0')}`;
};

const validEvent = (customerId = 'c-hostile') => ({
  eventId: nextId(),
  type: 'CustomerRegistered',
  schemaVersion: 1,
  customerId,
  occurredAt: '2024-05-01T09:30:00Z',
  data: { segment: 'B2C', acquisitionChannel: 'direct', name: 'Ada', email: 'ada@example.com' },
});

const ENDPOINTS = ['/v1/events', '/v1/customers/c-hostile/events', '/v1/events/batch'] as const;
const wrap = (endpoint: (typeof ENDPOINTS)[number], event: unknown) =>
  endpoint === '/v1/events' ? event : { events: [event] };

const STATUS_CODE: Record<number, string> = {
  400: 'invalid_request',
  409: 'wrong_expected_revision',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** The answer to a request that must be refused: a 4xx in the stable shape, and nothing written. */
async function expectRefused(req: InjectOptions, why: string): Promise<ErrorBody> {
  const before = await store.headPosition();
  const res = await app.inject({
    method: 'POST',
    ...req,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...req.headers },
  });
  expect(res.statusCode, `${why}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, why).toBeLessThan(500);
  const body = ErrorBody.parse(res.json());
  // A key twice in one object (`{"eventId":1,"eventId":2}`) is its own 400 code since issue #14.
  if (STATUS_CODE[res.statusCode] !== undefined && body.error.code !== 'duplicate_key')
    expect(body.error.code, why).toBe(STATUS_CODE[res.statusCode]);
  expect(await store.headPosition(), `${why}: the head moved`).toBe(before);
  return body;
}

/** Hostile values: numbers at the edges, NaN-ish strings, unicode edge cases, wrong types, pollution keys. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    1e308,
    -1e308,
    -0,
    2 ** 53 + 1,
    -(2 ** 53) - 1,
    Number.MAX_SAFE_INTEGER,
    0.1,
    -1,
    'NaN',
    'Infinity',
    '-Infinity',
    '1e308',
    '0x10',
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    'x\ud83d',
    '\u202eevil\u202c',
    '\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
    'e\u0301\u0301\u0301\u0301',
    '\ud83d\ude00'.repeat(64),
    '\ud83d\ude00'.repeat(100),
    '\ud83d\ude00'.repeat(2001),
    'x'.repeat(65),
    'x'.repeat(4001),
    '2024-02-30T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '0000-01-01T00:00:00Z',
    null,
    true,
    [],
    {},
    [1, 2],
    { __proto__: { polluted: true } },
    JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    { constructor: { prototype: { polluted: true } } },
  ),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }).map((b) => Number(b)),
  fc.jsonValue({ maxDepth: 3 }),
);

const FIELDS = [
  'eventId',
  'type',
  'schemaVersion',
  'customerId',
  'occurredAt',
  'data',
  'correlationId',
  'source',
  '__proto__',
  'constructor',
  'data.segment',
  'data.name',
  'data.email',
  'data.phone',
  'data.__proto__',
  'data.constructor',
  'data.extra',
] as const;

/** A valid event with one field replaced (or added) by a hostile value. */
function mutate(field: (typeof FIELDS)[number], value: unknown): Record<string, unknown> {
  const event: Record<string, unknown> = validEvent();
  const [head, sub] = field.split('.') as [string, string | undefined];
  const target = sub === undefined ? event : (event['data'] as Record<string, unknown>);
  Object.defineProperty(target, sub ?? head, { value, enumerable: true, configurable: true, writable: true });
  return event;
}

describe('ingest API under hostile input (fast-check, real SQLite store)', () => {
  it('random JSON values are refused with the stable shape and write nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.jsonValue(), async (endpoint, value) => {
        await expectRefused(
          { url: endpoint, payload: JSON.stringify(value) },
          `${endpoint} ${JSON.stringify(value)}`,
        );
      }),
      { numRuns: 150 },
    );
  });

  it('a valid event with one hostile field: accepted as a whole, or refused with zod issues and nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.constantFrom(...FIELDS),
        hostileValue,
        async (endpoint, field, value) => {
          const event = mutate(field, value);
          const payload = JSON.stringify(wrap(endpoint, event));
          const before = await store.headPosition();
          const res = await app.inject({
            method: 'POST',
            url: endpoint,
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            payload,
          });
          const why = `${endpoint} ${field}=${JSON.stringify(value)?.slice(0, 100)}: ${res.body.slice(0, 300)}`;
          expect(res.statusCode, why).toBeLessThan(500);
          const after = await store.headPosition();
          if (res.statusCode === 201) {
            expect(after, why).toBe(before + 1);
            return;
          }
          expect(after, why).toBe(before);
          if (endpoint === '/v1/events/batch' && res.statusCode === 207) return; // per item: an invalid item
          const body = ErrorBody.parse(res.json());
          // prototype-poisoned JSON is refused by the JSON parser itself (no zod issues to report)
          if (
            res.statusCode === 400 &&
            body.error.code === 'invalid_request' &&
            !/__proto__|constructor/.test(payload)
          )
            expect(body.error.issues?.length ?? 0, why).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('raw bodies that are not JSON, or JSON with duplicate keys, NUL or lone surrogates, never break the server', async () => {
    const valid = JSON.stringify(validEvent());
    const raw = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        '',
        '{',
        '[',
        'null',
        '"x"',
        'NaN',
        '1e99999',
        '{"eventId":1,"eventId":2}',
        `${valid.slice(0, -1)},"type":"FeatureAdopted"}`,
        valid.replace('"Ada"', '"\\ud800"'),
        valid.replace('"Ada"', '"A\\u0000da"'),
        valid.replace('"Ada"', '"A\u0000da"'),
        '{"__proto__":{"polluted":true}}',
        `{"constructor":{"prototype":{"polluted":true}},${valid.slice(1)}`,
        Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
        Buffer.from(valid.replace('Ada', 'A\u00e9a'), 'latin1'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), raw, async (endpoint, payload) => {
        await expectRefused({ url: endpoint, payload }, `${endpoint} ${String(payload).slice(0, 100)}`);
      }),
      { numRuns: 200 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('wrong content types get 415 (or 400 when empty), never a write', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/octet-stream',
        'application/json-patch+json',
        'text/json',
        'application/jsonx',
        '',
        ';',
        'application/json; charset=utf-16',
        '\u00ff/\u00ff',
      ),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), contentType, async (endpoint, type) => {
        if (/^\s*application\/json\s*(;\s*charset=utf-?8\s*)?$/i.test(type)) return;
        const payload = JSON.stringify(wrap(endpoint, validEvent()));
        await expectRefused(
          { url: endpoint, payload, headers: { 'content-type': type } },
          `content-type '${type}'`,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('oversized batches, bodies and 10^5-deep nesting are refused, also over a real socket', async () => {
    const many = { events: Array.from({ length: MAX_EVENTS + 1 }, () => validEvent()) };
    const tooMany = await expectRefused(
      { url: '/v1/customers/c-hostile/events', payload: JSON.stringify(many) },
      'too many',
    );
    expect(tooMany.error.issues?.[0]?.path).toEqual(['events']);
    await expectRefused({ url: '/v1/events/batch', payload: JSON.stringify(many) }, 'too many (batch)');
    const big = {
      ...validEvent(),
      data: { segment: 'B2C', acquisitionChannel: 'direct', name: 'x'.repeat(BODY_LIMIT) },
    };
    expect(
      (await expectRefused({ url: '/v1/events', payload: JSON.stringify(big) }, 'too large')).error.code,
    ).toBe('payload_too_large');
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const deepObject = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    for (const endpoint of ENDPOINTS) {
      await expectRefused({ url: endpoint, payload: deep }, `deep array ${endpoint}`);
      await expectRefused({ url: endpoint, payload: deepObject }, `deep object ${endpoint}`);
      const deepData = `{"events":[{"eventId":"${nextId()}","type":"FeatureAdopted","schemaVersion":1,"customerId":"c-hostile","occurredAt":"2024-01-01T00:00:00Z","data":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`;
      await expectRefused({ url: endpoint, payload: deepData }, `deep data ${endpoint}`);
    }

    // The same over a socket: the server answers (no crash, no hang) and still serves afterwards.
    const { port } = app.server.address() as AddressInfo;
    const before = await store.headPosition();
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${port}/v1/events/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
    for (const body of [
      deep,
      deepObject,
      JSON.stringify(big),
      JSON.stringify({ events: 'x'.repeat(BODY_LIMIT * 4) }),
    ]) {
      const res = await post(body);
      expect([400, 413]).toContain(res.status);
      ErrorBody.parse(await res.json());
    }
    expect(await store.headPosition()).toBe(before);
    const ok = await post(JSON.stringify({ events: [validEvent()] }));
    expect(ok.status).toBe(201);
  });

  it('regressions found by the properties: lone surrogates, NUL, a non-UTF-8 charset, prototype poisoning', async () => {
    // A lone surrogate has no UTF-8 form: it was stored as U+FFFD, so the stored event differed from the acknowledged one.
    const surrogate = await expectRefused(
      { url: '/v1/events', payload: JSON.stringify(validEvent()).replace('"Ada"', '"A\\ud800"') },
      'lone surrogate',
    );
    expect(surrogate.error.issues).toEqual([
      {
        path: ['data', 'name'],
        code: 'invalid_unicode',
        message: 'contains a lone surrogate (not valid Unicode text)',
      },
    ]);
    // NUL was accepted, and PostgreSQL text columns (the read models) refuse it.
    const nul = await expectRefused(
      {
        url: '/v1/customers/c-hostile/events',
        payload: JSON.stringify({ events: [validEvent()] }).replace('"Ada"', '"A\\u0000da"'),
      },
      'NUL',
    );
    expect(nul.error.issues?.[0]).toMatchObject({
      path: ['events', 0, 'data', 'name'],
      code: 'invalid_unicode',
    });
    // A body declared UTF-16 was parsed as UTF-8 and accepted.
    const utf16 = await expectRefused(
      {
        url: '/v1/events',
        payload: JSON.stringify(validEvent()),
        headers: { 'content-type': 'application/json; charset=utf-16' },
      },
      'utf-16',
    );
    expect(utf16.error.code).toBe('unsupported_media_type');
    // Invalid UTF-8 (a Latin-1 'é') was decoded to U+FFFD and stored as such.
    const latin1 = await expectRefused(
      {
        url: '/v1/events',
        payload: Buffer.from(JSON.stringify(validEvent()).replace('Ada', 'A\u00e9a'), 'latin1'),
      },
      'latin-1',
    );
    expect(latin1.error.message).toBe('the body is not valid UTF-8');
    await expectRefused(
      {
        url: '/v1/events',
        payload: `{"__proto__":{"polluted":true},${JSON.stringify(validEvent()).slice(1)}`,
      },
      '__proto__',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // A well-formed emoji at the length limit is fine (200 UTF-16 code units = 100 emoji).
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json; charset=UTF-8' },
      payload: JSON.stringify({
        ...validEvent(),
        data: { segment: 'B2C', acquisitionChannel: 'direct', name: '\ud83d\ude00'.repeat(100) },
      }),
    });
    expect(res.statusCode).toBe(201);
  });

  it('hostile expected revisions (query and body) are refused before anything is written', async () => {
    const revisions = fc.oneof(
      fc.constantFrom(
        '1e308',
        '-0',
        '-1',
        'NaN',
        '9007199254740993',
        '99999999999999999999',
        ' 1',
        '0x1',
        'any ',
        '',
      ),
      fc.string({ maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(revisions, async (rev) => {
        if (/^(any|no_stream|stream_exists|\d{1,15})$/.test(rev) || rev === '') return;
        await expectRefused(
          {
            url: `/v1/events?expectedRevision=${encodeURIComponent(rev)}`,
            payload: JSON.stringify(validEvent()),
          },
          `?expectedRevision=${rev}`,
        );
      }),
      { numRuns: 100 },
    );
    for (const rev of [1e308, -0.5, 2 ** 53 + 1, -1, '1', 'NaN', null, {}, []]) {
      await expectRefused(
        {
          url: '/v1/customers/c-hostile/events',
          payload: JSON.stringify({ events: [validEvent()], expectedRevision: rev }),
        },
        `expectedRevision ${JSON.stringify(rev)}`,
      );
      await expectRefused(
        {
          url: '/v1/events/batch',
          payload: JSON.stringify({ events: [validEvent()], expectedRevisions: { 'c-hostile': rev } }),
        },
        `expectedRevisions ${JSON.stringify(rev)}`,
      );
    }
  });
});

describe('customers named like Object.prototype members (issue #14)', () => {
  const NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];

  it('given a cross-customer batch with expectedRevisions for another customer, then their events are appended (201), not refused', async () => {
    const events = [...NAMES.map((c) => validEvent(c)), validEvent('kim-proto')];
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ events, expectedRevisions: { 'kim-proto': 'no_stream' } }),
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ results: { status: string; customerId: string }[] }>();
    expect(body.results.map((r) => [r.customerId, r.status])).toEqual(
      [...NAMES, 'kim-proto'].map((c) => [c, 'appended']),
    );
  });
});

describe('a cross-customer batch whose every item ends up invalid (issue #14)', () => {
  it('answers 400 in the error shape, as documented, not 207 (a valid event made invalid by an invalid sibling of its customer)', async () => {
    const before = await store.headPosition();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        events: [validEvent('c-all-invalid'), { ...validEvent('c-all-invalid'), type: 'Nope' }],
      }),
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(ErrorBody.parse(res.json()).error.code).toBe('invalid_request');
    expect(await store.headPosition()).toBe(before);
  });
});

describe('canonical event ids (issue #14)', () => {
  const post = (event: unknown) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify(event),
    });

  it('given an event stored once, when it is sent again with its eventId in upper case, then it is a duplicate and nothing is written', async () => {
    const event = { ...validEvent('c-canonical'), eventId: '5a0e0b9e-0000-4000-8000-0000000000ab' };
    expect((await post(event)).statusCode).toBe(201);
    const head = await store.headPosition();
    const again = await post({ ...event, eventId: event.eventId.toUpperCase() });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true });
    expect(await store.headPosition()).toBe(head);
  });

  it('given an upper-case eventId never seen, then it is stored in lower case', async () => {
    const res = await post({ ...validEvent('c-canonical'), eventId: '5A0E0B9E-0000-4000-8000-0000000000AC' });
    expect(res.statusCode, res.body).toBe(201);
    const read = await store.readStream('customer-c-canonical');
    if (read._tag === 'Left') throw new Error(read.left.message);
    expect(read.right.map((s) => s.event.eventId)).toContain('5a0e0b9e-0000-4000-8000-0000000000ac');
    expect(read.right.map((s) => s.event.eventId)).not.toContain('5A0E0B9E-0000-4000-8000-0000000000AC');
  });

  it('refuses braces and urn:uuid: variants of an eventId (400), writing nothing', async () => {
    for (const eventId of [
      '{5a0e0b9e-0000-4000-8000-0000000000ab}',
      'urn:uuid:5a0e0b9e-0000-4000-8000-0000000000ab',
      '5a0e0b9e00004000800000000000000ab',
    ]) {
      const body = await expectRefused(
        { url: '/v1/events', payload: JSON.stringify({ ...validEvent('c-canonical'), eventId }) },
        eventId,
      );
      expect(body.error.code).toBe('invalid_request');
    }
  });
});
