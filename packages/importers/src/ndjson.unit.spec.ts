import { describe, expect, it } from 'vitest';
import { parseNdjsonLine } from './ndjson.js';
import { parseSource } from './lines.js';
import { ndjsonParser } from './ndjson.js';

const purchase = {
  eventId: '6f1c1c1e-8f57-4a5e-9d55-0d3c8f1a2b3c',
  type: 'PurchaseMade',
  schemaVersion: 1,
  customerId: 'c-1',
  occurredAt: '2024-05-01T09:30:00Z',
  data: { orderId: 'o-1', amount: { amountMinor: 1299, currency: 'EUR' } },
};

describe('parseNdjsonLine', () => {
  it('turns a valid envelope into an event', () => {
    expect(parseNdjsonLine(JSON.stringify(purchase), 7)).toEqual({
      kind: 'event',
      lineNumber: 7,
      event: purchase,
    });
  });
  it('skips blank lines', () => {
    expect(parseNdjsonLine('   ', 3)).toEqual({ kind: 'skipped', lineNumber: 3, reason: 'blank' });
  });
  it('reports malformed JSON with its line number', () => {
    const r = parseNdjsonLine('{"eventId":', 12);
    expect(r).toMatchObject({ kind: 'error', lineNumber: 12 });
    expect(r.kind === 'error' && r.message).toMatch(/not valid JSON/);
  });
  it('reports catalogue violations with the zod issues', () => {
    const bad = { ...purchase, data: { ...purchase.data, amount: { amountMinor: -5, currency: 'EUR' } } };
    const r = parseNdjsonLine(JSON.stringify(bad), 2);
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.issues?.[0]?.path).toEqual(['data', 'amount', 'amountMinor']);
    expect(r.message).toMatch(/data\.amount\.amountMinor/);
  });
  it('rejects unknown fields', () => {
    const r = parseNdjsonLine(JSON.stringify({ ...purchase, extra: 1 }), 1);
    expect(r.kind).toBe('error');
  });
});

describe('parseSource', () => {
  it('numbers lines across chunk boundaries and CRLF endings', async () => {
    const text = `${JSON.stringify(purchase)}\r\n\r\n{oops}\r\n${JSON.stringify({ ...purchase, eventId: '7f1c1c1e-8f57-4a5e-9d55-0d3c8f1a2b3c' })}`;
    const bytes = new TextEncoder().encode(text);
    const chunks = [bytes.slice(0, 10), bytes.slice(10, 200), bytes.slice(200)];
    const out = [];
    for await (const line of parseSource(chunks, ndjsonParser)) out.push([line.lineNumber, line.kind]);
    expect(out).toEqual([
      [1, 'event'],
      [2, 'skipped'],
      [3, 'error'],
      [4, 'event'],
    ]);
  });
});
