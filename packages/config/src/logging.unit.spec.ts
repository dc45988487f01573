import { describe, expect, it } from 'vitest';
import { LOG_REDACT_PATHS, loggerOptions, serializeRequest } from './logging.js';

describe('service logger options', () => {
  it('log a request as method, path and client: no query string, no headers', () => {
    expect(
      serializeRequest({
        method: 'GET',
        url: '/v1/customers?segment=secret&asOf=x',
        host: 'h',
        ip: '10.0.0.1',
      }),
    ).toEqual({ method: 'GET', url: '/v1/customers', host: 'h', remoteAddress: '10.0.0.1' });
  });

  it('redact credentials, bodies and event payloads wherever a log call could put them', () => {
    const o = loggerOptions('svc', 'info');
    expect(o.redact.paths).toEqual([...LOG_REDACT_PATHS]);
    for (const p of ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.body', '*.data', 'event'])
      expect(o.redact.paths).toContain(p);
  });
});
