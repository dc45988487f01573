import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from './errors.js';
import { createHttpServer, type HttpApp } from './server.js';

/**
 * Issue #14 over a real socket: a stalled body is answered 408 and its connection closed within the
 * configured time; whatever Node's HTTP parser refuses (unknown method, bytes not allowed in a path, URL or
 * headers too large) is answered in the `{"error":{"code","message"}}` shape; a JSON body with a key twice
 * in one object is refused with 400 `duplicate_key`.
 */
let app: HttpApp;
let port: number;

beforeAll(async () => {
  app = await createHttpServer({
    logger: pino({ level: 'silent' }),
    title: 't',
    version: '1',
    timeouts: { requestMs: 1_500, headersMs: 1_000, keepAliveMs: 1_000 },
  });
  app.post('/echo', (req) => ({ body: req.body }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

/** Sends raw bytes, then collects the answer until the server closes the connection. */
function raw(bytes: Buffer | string, waitMs = 10_000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open ${waitMs} ms; got: ${text}`));
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.on('error', () => undefined);
  });
}

function answer(text: string): { status: number; body: ErrorBody } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = ErrorBody.parse(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)));
  return { status, body };
}

describe('HTTP edges (issue #14)', () => {
  it('answers a body that stops arriving (short Content-Length) with 408 request_timeout and closes the connection in time', async () => {
    const r = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    expect(answer(r.text)).toMatchObject({ status: 408, body: { error: { code: 'request_timeout' } } });
    expect(r.closedAfterMs).toBeLessThan(1_500 + 2_500);
  });

  it('answers a chunked body that stops arriving with 408 and closes the connection', async () => {
    const r = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n',
    );
    expect(answer(r.text)).toMatchObject({ status: 408, body: { error: { code: 'request_timeout' } } });
  });

  it('answers headers that stop arriving with 408 in the error shape', async () => {
    const r = await raw('GET /health HTTP/1.1\r\nHost: x\r\n');
    expect(answer(r.text)).toMatchObject({ status: 408, body: { error: { code: 'request_timeout' } } });
  });

  it('answers an unknown method in the error shape (400)', async () => {
    const r = await raw('FROB /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer(r.text)).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it('answers bytes not allowed in a path in the error shape (400)', async () => {
    const r = await raw(
      Buffer.concat([Buffer.from('GET /v1/\x01\x7f'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]),
    );
    expect(answer(r.text)).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it('answers headers too large (431) and a URL too large in the error shape', async () => {
    const big = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(answer(big.text)).toMatchObject({ status: 431, body: { error: { code: 'headers_too_large' } } });
    const url = await raw(`GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const { status, body } = answer(url.text);
    expect([414, 431]).toContain(status);
    expect(['uri_too_long', 'headers_too_large']).toContain(body.error.code);
  });

  it('refuses a JSON body with a key twice in one object: 400 duplicate_key; the same keys in different objects are fine', async () => {
    const dup = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"amount":{"amountMinor":1,"currency":"USD","amountMinor":999999}}',
    });
    expect(dup.statusCode).toBe(400);
    expect(ErrorBody.parse(dup.json())).toMatchObject({ error: { code: 'duplicate_key' } });
    expect(dup.json<ErrorBody>().error.message).toContain('amountMinor');
    const ok = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}',
    });
    expect(ok.statusCode).toBe(200);
  });
});
