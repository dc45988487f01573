import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createPurchaseCsvParser, ndjsonParser, type LineParser } from '@crm-ledger/importers';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { importFile } from './importing.js';

/**
 * A file with good lines and one hostile line, imported into a real SQLite store: the import stops with the
 * hostile line's number and a message, and appends nothing (the batch holding the line is validated whole
 * before any of it is written).
 */
const dir = mkdtempSync(path.join(tmpdir(), 'import-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let serial = 0;

const goodNdjson = (n: number) =>
  JSON.stringify({
    eventId: `1a000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: 'FeatureAdopted',
    schemaVersion: 1,
    customerId: `c-${n % 3}`,
    occurredAt: '2024-01-01T00:00:00Z',
    data: { feature: 'reports' },
  });

const hostileNdjson = fc.oneof(
  fc.constantFrom(
    '{',
    'null',
    '[]',
    '{"__proto__":{"polluted":true}}',
    goodNdjson(999).replace('reports', 'Reports!'),
    goodNdjson(998).replace('"reports"', '"re\\ud800"'),
    goodNdjson(997).replace('"reports"', '1e308'),
    '['.repeat(100_000),
    '\u0000',
  ),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);

const csvParser = (): LineParser => {
  const p = createPurchaseCsvParser({
    source: 'shop',
    header: true,
    currency: 'USD',
    columns: { customer: 'client', date: 'when', amount: 'total' },
  });
  if (E.isLeft(p)) throw new Error('bad options');
  return p.right;
};
const hostileCsv = fc.constantFrom(
  'c-1,2024-01-01,1e308',
  'c-1,2024-01-01,NaN',
  'c-1,2024-01-01,9007199254740993',
  'c-1,2024-02-30,1.00',
  'c-1,,1.00',
  ',2024-01-01,1.00',
  '"c-1,2024-01-01,1.00',
  'c-\u0000,2024-01-01,1.00',
  'c-1,2024-01-01,-5',
);

async function importWithHostileLine(
  lines: string[],
  parser: LineParser,
  ext: string,
): Promise<{ result: Awaited<ReturnType<typeof importFile>>; head: number }> {
  serial += 1;
  const file = path.join(dir, `in-${serial}.${ext}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const store = openSqliteEventStore({
    file: path.join(dir, `ledger-${serial}.sqlite`),
    synchronous: 'normal',
  });
  try {
    const result = await importFile(store, file, parser, { batchSize: 1000, progress: false });
    return { result, head: await store.headPosition() };
  } finally {
    await store.close();
  }
}

describe('importing a file with a hostile line (real SQLite store)', () => {
  it('NDJSON: stops at the hostile line, names it, appends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(hostileNdjson, fc.integer({ min: 0, max: 6 }), async (bad, at) => {
        const lines = Array.from({ length: 6 }, (_, i) => goodNdjson(i + 1));
        lines.splice(at, 0, bad);
        const { result, head } = await importWithHostileLine(lines, ndjsonParser, 'ndjson');
        expect(E.isLeft(result), bad.slice(0, 80)).toBe(true);
        if (E.isLeft(result)) {
          expect(result.left.lineNumber).toBe(at + 1);
          expect(result.left.message.length).toBeGreaterThan(0);
        }
        expect(head).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it('mapped CSV: stops at the hostile line, names it, appends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(hostileCsv, fc.integer({ min: 0, max: 4 }), async (bad, at) => {
        const lines = Array.from({ length: 4 }, (_, i) => `c-${i},2024-01-0${i + 1},${i + 1}.50`);
        lines.splice(at, 0, bad);
        const { result, head } = await importWithHostileLine(
          ['client,when,total', ...lines],
          csvParser(),
          'csv',
        );
        expect(E.isLeft(result), bad).toBe(true);
        if (E.isLeft(result)) expect(result.left.lineNumber).toBe(at + 2);
        expect(head).toBe(0);
      }),
      { numRuns: 30 },
    );
  });
});
