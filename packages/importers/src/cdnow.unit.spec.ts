import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '@crm-ledger/events';
import { cdnowMaster, cdnowSample } from './cdnow.js';
import { parseSource } from './lines.js';
import { createPurchaseCsvParser, type PurchaseCsvOptions } from './purchase-csv.js';
import type { ImportLine } from './result.js';

/** The shared data sits beside the repository (`../shared/data`); worktrees find it at /work/shared. */
const dataDir = [
  process.env.CRM_LEDGER_CDNOW_DIR,
  path.resolve(import.meta.dirname, '../../../../shared/data/cdnow'),
  '/work/shared/data/cdnow',
].find((d): d is string => d !== undefined && existsSync(path.join(d, 'CDNOW_sample.txt')));

async function parseFile(file: string, options: PurchaseCsvOptions): Promise<ImportLine[]> {
  const parser = createPurchaseCsvParser(options);
  if (E.isLeft(parser)) throw new Error('bad preset');
  const out: ImportLine[] = [];
  for await (const l of parseSource(createReadStream(file), parser.right)) out.push(l);
  return out;
}

describe.runIf(dataDir !== undefined)('CDNOW presets', () => {
  it('turns all 6,919 lines of CDNOW_sample into valid PurchaseMade events', async () => {
    const lines = await parseFile(path.join(dataDir!, 'CDNOW_sample.txt'), cdnowSample);
    const events = lines.flatMap((l) => (l.kind === 'event' ? [l.event] : []));
    expect(lines.filter((l) => l.kind === 'error')).toEqual([]);
    expect(events).toHaveLength(6919);
    expect(events.every((e) => E.isRight(validateEvent(e)))).toBe(true);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(6919);
    expect(new Set(events.map((e) => e.customerId)).size).toBe(2357);
    expect(events[0]).toMatchObject({
      type: 'PurchaseMade',
      customerId: '00004',
      occurredAt: '1997-01-01T00:00:00Z',
      source: 'cdnow',
      data: { amount: { amountMinor: 2933, currency: 'USD' }, quantity: 2 },
    });
    const cents = events.reduce(
      (s, e) => s + (e.data as { amount: { amountMinor: number } }).amount.amountMinor,
      0,
    );
    expect(cents).toBeGreaterThan(0);
  });

  it('gives the sample the same eventIds as the same purchases in the master file', async () => {
    const [sample, master] = await Promise.all([
      parseFile(path.join(dataDir!, 'CDNOW_sample.txt'), cdnowSample),
      parseFile(path.join(dataDir!, 'CDNOW_master.txt'), cdnowMaster),
    ]);
    const masterEvents = master.flatMap((l) => (l.kind === 'event' ? [l.event] : []));
    expect(master[0]).toEqual({ kind: 'skipped', lineNumber: 1, reason: 'header' });
    expect(masterEvents).toHaveLength(69_659);
    const byId = new Map(masterEvents.map((e) => [e.eventId, e]));
    for (const l of sample) {
      if (l.kind !== 'event') throw new Error(`line ${l.lineNumber} is ${l.kind}`);
      expect(byId.get(l.event.eventId)).toEqual(l.event);
    }
  });

  it('reports a bad line with its number', async () => {
    const good = ' 00004 0001 19970101  2   29.33\r\n';
    const text = good + ' 00005 0001 19970231  1   9.99\r\n' + good;
    const parser = createPurchaseCsvParser(cdnowSample);
    if (E.isLeft(parser)) throw new Error('bad preset');
    const out: ImportLine[] = [];
    for await (const l of parseSource([text], parser.right)) out.push(l);
    expect(out.map((l) => l.kind)).toEqual(['event', 'error', 'event']);
    expect(out[1]).toMatchObject({ kind: 'error', lineNumber: 2 });
    expect(out[1]?.kind === 'error' && out[1].message).toMatch(/19970231/);
  });
});
