import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitLines } from './lines.js';
import { createPurchaseCsvParser, type PurchaseCsvOptions } from './purchase-csv.js';

const options: PurchaseCsvOptions = {
  source: 'prop',
  header: false,
  dateFormat: 'YYYY-MM-DD',
  currency: 'USD',
  columns: { customer: 1, date: 2, amount: 3 },
};

function ids(lines: readonly string[]): string[] {
  const p = createPurchaseCsvParser(options);
  if (E.isLeft(p)) throw new Error('options');
  return lines
    .map((l, i) => p.right.parseLine(l, i + 1))
    .flatMap((r) => (r.kind === 'event' ? [r.event.eventId] : []))
    .sort();
}

const record = fc
  .tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }))
  .map(([c, d, amount]) => `${c},2024-01-0${d},${amount}.00`);

describe('derived eventIds (property)', () => {
  it('are unique within a file and do not depend on the order of its lines', () => {
    const fileAndShuffle = fc
      .array(record, { maxLength: 30 })
      .chain((lines) =>
        fc.tuple(
          fc.constant(lines),
          fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length }),
        ),
      );
    fc.assert(
      fc.property(fileAndShuffle, ([lines, shuffled]) => {
        const a = ids(lines);
        expect(new Set(a).size).toBe(lines.length);
        expect(ids(shuffled)).toEqual(a);
      }),
    );
  });
});

describe('splitLines', () => {
  it('drops a byte order mark and keeps multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('\uFEFFcafé,1\r\nnaïve,2');
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b)); // one byte at a time
    const out = [];
    for await (const l of splitLines(chunks)) out.push(l);
    expect(out).toEqual([
      { lineNumber: 1, text: 'café,1' },
      { lineNumber: 2, text: 'naïve,2' },
    ]);
  });
});
