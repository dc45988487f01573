import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { cdnowSample } from './cdnow.js';
import { parseSource } from './lines.js';
import { createPurchaseCsvParser, type PurchaseCsvOptions } from './purchase-csv.js';

/**
 * Re-imports stay idempotent across the move to csv-parse and date-fns: `fixtures/ids-before-csv-parse.json` holds
 * what the hand-written splitter (the importers of commit 290d49c) made of the fixture files, line by line: the event id
 * of every record, or `skipped`. Read again as a file stream, the same files give the same ids on the same lines.
 * The import ids are the CLI's defaults (services/cli/src/commands/import.ts: the source and a digest of the
 * mapping), so an import run with the same command line before the change writes nothing now.
 */
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const before = JSON.parse(readFileSync(fixture('ids-before-csv-parse.json'), 'utf8')) as Record<
  string,
  { importId: string; lines: [number, string][] }
>;
const cliImportId = (source: string, mapping: unknown) =>
  `${source}-${createHash('sha256').update(JSON.stringify(mapping)).digest('hex').slice(0, 10)}`;

const cases: [string, PurchaseCsvOptions][] = [
  [
    'shop-2026-12.csv',
    {
      source: 'shop-2026-12.csv',
      delimiter: ',',
      header: true,
      dateFormat: 'ISO',
      currency: 'EUR',
      columns: {
        customer: 'client',
        date: 'when',
        amount: 'total',
        orderId: 'order',
        quantity: 'items',
        currency: 'cur',
      },
    },
  ],
  [
    'content-keys-2026-12.tsv',
    {
      source: 'content-keys-2026-12.tsv',
      delimiter: '\t',
      header: false,
      dateFormat: 'YYYY-MM-DD',
      currency: 'USD',
      columns: { customer: 1, date: 2, amount: 3 },
    },
  ],
  ['cdnow-sample-head-2026-12.txt', cdnowSample],
];

async function idsOf(
  file: string,
  options: PurchaseCsvOptions,
  importId: string,
  chunkSize?: number,
): Promise<[number, string][]> {
  const parser = createPurchaseCsvParser({ ...options, importId });
  if (E.isLeft(parser)) throw new Error(JSON.stringify(parser.left));
  const out: [number, string][] = [];
  const source =
    chunkSize === undefined
      ? createReadStream(fixture(file))
      : createReadStream(fixture(file), { highWaterMark: chunkSize });
  for await (const l of parseSource(source, parser.right))
    out.push([l.lineNumber, l.kind === 'event' ? l.event.eventId : l.kind]);
  return out;
}

describe('event ids of files imported before csv-parse', () => {
  it.each(cases)(
    '%s: the same ids on the same lines, and the same default import id',
    async (file, options) => {
      const { source, ...mapping } = options;
      const importId = file.startsWith('cdnow') ? 'cdnow' : cliImportId(source, mapping);
      expect(importId).toBe(before[file]?.importId);
      const lines = await idsOf(file, options, importId);
      expect(lines.filter(([, id]) => id.includes('-')).length).toBeGreaterThan(4);
      expect(lines).toEqual(before[file]?.lines);
    },
  );

  it.each(cases)(
    '%s: the same ids read 1 and 7 bytes at a time (records and characters split across chunks)',
    async (file, options) => {
      const importId = before[file]!.importId;
      expect(await idsOf(file, options, importId, 1)).toEqual(before[file]?.lines);
      expect(await idsOf(file, options, importId, 7)).toEqual(before[file]?.lines);
    },
  );
});
