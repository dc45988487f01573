import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi-document.js';
import { lintOpenApi } from './openapi-lint.js';

interface Operation {
  readonly operationId?: string;
}

describe('the OpenAPI document of crm-ledger start', () => {
  it('names a server and gives every operation a unique camelCase operationId', async () => {
    const doc = (await openApiDocument('all')) as {
      servers: { url: string }[];
      paths: Record<string, Record<string, Operation>>;
    };
    expect(doc.servers.map((s) => s.url)).toEqual(['/']);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.filter((id) => id === undefined || !/^[a-z][A-Za-z0-9]*$/.test(id))).toEqual([]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(doc.paths['/v1/customers']?.['get']?.operationId).toBe('listCustomers');
    expect(doc.paths['/v1/customers/{customerId}']?.['get']?.operationId).toBe('getCustomer360');
  });

  it('has zero errors from redocly lint (the recommended ruleset, redocly.yaml)', async () => {
    const result = await lintOpenApi();
    expect(result.errors, result.output).toBe(0);
    expect(result.status, result.output).toBe(0);
  }, 60_000);
});
