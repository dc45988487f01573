import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '@crm-ledger/events';
import { cdnowMaster, cdnowSample } from './cdnow.js';
import { parseSource } from './lines.js';
import { parseNdjsonLine } from './ndjson.js';
import { createPurchaseCsvParser, type PurchaseCsvOptions } from './purchase-csv.js';
import type { ImportLine, LineParser } from './result.js';

/**
 * Hostile lines against the importers (NDJSON, a mapped CSV, the CDNOW presets). Property: a line never throws;
 * it becomes a skip, an event that passes the catalogue, or a typed error naming its line with a message.
 */
const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    '1e308',
    '-1e308',
    '-0',
    'NaN',
    'Infinity',
    '9007199254740993',
    '99999999999999999999999',
    '0x10',
    '1,5',
    '1.005',
    '-12.99',
    '\u0000',
    '\ud800',
    '\u202e12',
    'e\u0301',
    '\ud83d\ude00'.repeat(40),
    'x'.repeat(5000),
    '"',
    '""',
    '"a""b"',
    '20240230',
    '99991231',
    '00000000',
    '2024-02-30T00:00:00Z',
    '__proto__',
    'constructor',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double().map(String),
  fc.bigInt().map(String),
);

/** What every result must look like. */
function checkResult(result: ImportLine, lineNumber: number, why: string): void {
  expect(result.lineNumber, why).toBe(lineNumber);
  if (result.kind === 'error') {
    expect(result.message.length, why).toBeGreaterThan(0);
  } else if (result.kind === 'event') {
    const again = validateEvent(JSON.parse(JSON.stringify(result.event)));
    expect(E.isRight(again), `${why}: ${JSON.stringify(E.isLeft(again) && again.left)}`).toBe(true);
    const amount = (result.event.data as { amount?: { amountMinor: number } }).amount;
    if (amount !== undefined) expect(Number.isSafeInteger(amount.amountMinor), why).toBe(true);
  }
}

const parserOf = (o: PurchaseCsvOptions): LineParser => {
  const p = createPurchaseCsvParser(o);
  if (E.isLeft(p)) throw new Error(JSON.stringify(p.left));
  return p.right;
};

const validEvent = {
  eventId: '6f1c1c1e-8f57-4a5e-9d55-0d3c8f1a2b3c',
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId: 'c-42',
  occurredAt: '2024-05-01T09:30:00Z',
  data: { orderId: 'o-1', amount: { amountMinor: 1299, currency: 'EUR' } },
};

describe('importers under hostile input (fast-check)', () => {
  it('NDJSON: any line, JSON or not, is an event, a skip or an error naming its line', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc
            .tuple(
              fc.constantFrom('eventId', 'type', 'customerId', 'occurredAt', 'data', '__proto__'),
              fc.jsonValue(),
            )
            .map(([k, v]) => JSON.stringify({ ...validEvent, [k]: v })),
          fc.constantFrom(
            '['.repeat(100_000) + ']'.repeat(100_000),
            '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
            '{"__proto__":{"polluted":true}}',
            JSON.stringify(validEvent).replace('"o-1"', '"o-\\ud800"'),
            JSON.stringify(validEvent).replace('1299', '1e308'),
            JSON.stringify(validEvent).replace('1299', '9007199254740993'),
            JSON.stringify(validEvent).replace('1299', '-0'),
            `{"eventId":"x",${JSON.stringify(validEvent).slice(1)}`,
          ),
        ),
        fc.integer({ min: 1, max: 10_000_000 }),
        (line, lineNumber) => {
          checkResult(parseNdjsonLine(line, lineNumber), lineNumber, line.slice(0, 120));
        },
      ),
      { numRuns: 500 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('mapped CSV: hostile fields in every column give an event with a safe amount, or an error naming the line', () => {
    const shop: PurchaseCsvOptions = {
      source: 'shop-export',
      header: true,
      dateFormat: 'ISO',
      currency: 'EUR',
      columns: { customer: 'client', date: 'when', amount: 'total', orderId: 'order', quantity: 'items' },
    };
    fc.assert(
      fc.property(fc.array(hostileText, { minLength: 0, maxLength: 7 }), fc.boolean(), (fields, quote) => {
        const parser = parserOf(shop);
        expect(parser.parseLine('order,client,when,total,items', 1).kind).toBe('skipped');
        const line = fields.map((f) => (quote ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
        checkResult(parser.parseLine(line, 2), 2, line.slice(0, 120));
      }),
      { numRuns: 500 },
    );
  });

  it('CDNOW presets: hostile whitespace-separated lines, header or not', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(cdnowMaster, cdnowSample),
        fc.array(hostileText, { maxLength: 6 }),
        fc.constantFrom(' ', '  ', '\t'),
        (preset, fields, sep) => {
          const parser = parserOf(preset);
          if (preset.header === true) parser.parseLine('customer_id date number_of_cds dollar_value', 1);
          const line = fields.join(sep);
          checkResult(parser.parseLine(line, 7), 7, line.slice(0, 120));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mapped CSV files read whole (csv-parse): any bytes in any chunks give results on rising lines within the file, never a throw', async () => {
    const shop: PurchaseCsvOptions = {
      source: 'shop-export',
      currency: 'EUR',
      columns: { customer: 'client', date: 'when', amount: 'total', orderId: 'order' },
    };
    const piece = fc.oneof(
      hostileText,
      fc.constantFrom(',', '"', '""', '\n', '\r\n', '\r', '\uFEFF', 'c-1,2024-05-01,1.00', '"a\nb"'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        async (pieces, chunkSize) => {
          const text = `order,client,when,total\n${pieces.join('')}`;
          const bytes = new TextEncoder().encode(text);
          const chunks: Uint8Array[] = [];
          for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.slice(i, i + chunkSize));
          const physicalLines = text.split('\n').length;
          let previous = 0;
          for await (const result of parseSource(chunks, parserOf(shop))) {
            expect(result.lineNumber).toBeGreaterThan(previous);
            expect(result.lineNumber).toBeLessThanOrEqual(physicalLines);
            checkResult(result, result.lineNumber, text.slice(0, 120));
            previous = result.lineNumber;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
