import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpApp } from '@crm-ledger/http-kit';
import { registerDashboard } from './plugin.js';

describe('dashboard routes', () => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 't', version: '0' });
    registerDashboard(app);
    await app.ready();
  });
  afterAll(() => app.close());

  it('serves the pages, their scripts and Chart.js from node_modules', async () => {
    const index = await app.inject({ url: '/dashboard/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('src="overview.js"');
    const chart = await app.inject({ url: '/dashboard/vendor/chart.umd.min.js' });
    expect(chart.statusCode).toBe(200);
    expect(chart.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(chart.body.length).toBeGreaterThan(100_000);
    expect((await app.inject({ url: '/dashboard/customer.js' })).body).toContain('/v1/customers/');
  });

  it('redirects the bare prefix and serves nothing outside its fixed list', async () => {
    const bare = await app.inject({ url: '/dashboard' });
    expect(bare.statusCode).toBe(302);
    expect(bare.headers.location).toBe('/dashboard/');
    for (const url of [
      '/dashboard/../package.json',
      '/dashboard/..%2Fpackage.json',
      '/dashboard/src/plugin.ts',
    ])
      expect((await app.inject({ url })).statusCode, url).toBe(404);
  });

  it('keeps helmet’s content security policy: scripts only from the same origin', async () => {
    const csp = (await app.inject({ url: '/dashboard/' })).headers['content-security-policy'];
    expect(String(csp)).toContain("script-src 'self'");
  });
});
