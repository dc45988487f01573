import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchases,
  discountedClv,
  probabilityAlive,
  type RfmValueSummary,
} from '@crm-ledger/clv';
import { fixedClock } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { cdnowSample, createPurchaseCsvParser, parseSource } from '@crm-ledger/importers';
import { openSqliteEventStore } from '@crm-ledger/store-sqlite';
import { fitClvFromStore } from './from-store.js';
import type { ClvFitRecord } from './fit.js';

/** The shared data sits beside the repository (`../shared/data`); worktrees find it at /work/shared. */
const cdnowDir = [
  process.env.CRM_LEDGER_CDNOW_DIR,
  path.resolve(import.meta.dirname, '../../../../shared/data/cdnow'),
  '/work/shared/data/cdnow',
].find((d): d is string => d !== undefined && existsSync(path.join(d, 'CDNOW_sample.txt')));

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const within = (actual: number, expected: number, relative: number): void => {
  expect(Math.abs(actual / expected - 1)).toBeLessThan(relative);
};

/** The 39-week calibration period from 1997-01-01: purchases up to and including 1997-09-30. */
const CALIBRATION = { observationEnd: '1997-09-30', daysPerUnit: 7, currency: 'USD', minorPerMajor: 100 };

describe.runIf(cdnowDir !== undefined)(
  'CDNOW_sample through the ledger: import, store, summarise, fit',
  () => {
    let dir: string;
    let record: ClvFitRecord;
    let summaries: Map<string, RfmValueSummary>;
    let imported = 0;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'clv-cdnow-'));
      const store = openSqliteEventStore({ file: path.join(dir, 'ledger.db'), synchronous: 'normal' });
      try {
        // 1. Import every line of the raw purchases as PurchaseMade events (the ingest engineer's CDNOW preset).
        const parser = right(createPurchaseCsvParser(cdnowSample));
        const byCustomer = new Map<string, RawEnvelope[]>();
        for await (const line of parseSource(
          createReadStream(path.join(cdnowDir!, 'CDNOW_sample.txt')),
          parser,
        )) {
          if (line.kind === 'error') throw new Error(`line ${line.lineNumber}: ${line.message}`);
          if (line.kind !== 'event') continue;
          const list = byCustomer.get(line.event.customerId) ?? [];
          list.push(line.event);
          byCustomer.set(line.event.customerId, list);
        }
        // 2. Append them to a real SQLite event store, one stream per customer.
        for (const [customerId, events] of byCustomer) {
          const appended = right(
            await store.append(customerStream(customerId), events, { expectedRevision: 'no_stream' }),
          );
          imported += appended.positions.length;
        }
        // 3. Fold the stored events into purchase days, summarise at the calibration end, fit both models.
        const fit = right(await fitClvFromStore(store, CALIBRATION, fixedClock('2026-01-01T00:00:00.000Z')));
        record = fit.record;
        summaries = fit.summaries;
      } finally {
        await store.close();
      }
    }, 120_000);

    afterAll(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('stores all 6,919 purchases of 2,357 customers; 4,960 of them fall in the 39-week calibration period', () => {
      expect(imported).toBe(6919);
      expect(summaries.size).toBe(2357);
      expect(record.data).toEqual({ purchases: 4960, afterWindow: 1959, otherCurrency: 0 });
    });

    it("every customer's frequency, recency and T equal cdnow_customers_summary.csv, zbar equals the published mean repeat spend", () => {
      // The sample file's second column is the summary's ID; the first is the ledger's customer id.
      const sampleId = new Map<string, number>();
      for (const line of readFileSync(path.join(cdnowDir!, 'CDNOW_sample.txt'), 'utf8').split('\n')) {
        const [customerId, id] = line.trim().split(/\s+/);
        if (customerId !== undefined && id !== undefined) sampleId.set(customerId, Number(id));
      }
      const readCsv = (file: string) => {
        const [header, ...lines] = readFileSync(path.join(cdnowDir!, file), 'utf8').trim().split(/\r?\n/);
        const names = header!.split(',');
        const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, Number(v)])));
        return new Map(rows.map((r) => [r.ID!, r]));
      };
      const published = readCsv('cdnow_customers_summary.csv');
      const withSpend = readCsv('cdnow_customers_summary_with_transactions.csv');
      let checked = 0;
      for (const [customerId, s] of summaries) {
        const id = sampleId.get(customerId)!;
        const p = published.get(id)!;
        const w = withSpend.get(id)!;
        // The published files round to two decimals.
        expect({ id, x: s.frequency, recency: s.recency.toFixed(2), T: s.T.toFixed(2) }).toEqual({
          id,
          x: p.frequency,
          recency: p.recency!.toFixed(2),
          T: p.T!.toFixed(2),
        });
        expect(Math.abs(s.monetaryValue - w.zbar!)).toBeLessThanOrEqual(0.005 + 1e-9);
        checked++;
      }
      expect(checked).toBe(2357);
    });

    it('fits the published BG/NBD parameters within 1%: r 0.243, alpha 4.414, a 0.793, b 2.426', () => {
      const { params, logLikelihood, customers, repeatBuyers } = record.bgNbd;
      within(params.r, 0.243, 0.01);
      within(params.alpha, 4.414, 0.01);
      within(params.a, 0.793, 0.01);
      within(params.b, 2.426, 0.01);
      expect(Math.abs(logLikelihood - -9582.4)).toBeLessThan(1);
      expect({ customers, repeatBuyers }).toEqual({ customers: 2357, repeatBuyers: 946 });
    });

    it('fits the published Gamma-Gamma parameters within 1% on the 946 repeat buyers: p 6.25, q 3.74, v 15.44', () => {
      const { params, customers } = record.gammaGamma;
      expect(customers).toBe(946);
      expect(record.gammaGamma.zeroSpendRepeatBuyers).toBe(0);
      within(params.p, 6.25, 0.01);
      within(params.q, 3.74, 0.01);
      within(params.v, 15.44, 0.01);
    });

    it('records the fit date, the data window and the currency', () => {
      expect(record.fittedAt).toBe('2026-01-01T00:00:00.000Z');
      expect(record.window).toEqual({
        firstPurchaseDay: '1997-01-01',
        observationEnd: '1997-09-30',
        daysPerUnit: 7,
      });
      expect({ currency: record.currency, minorPerMajor: record.minorPerMajor }).toEqual({
        currency: 'USD',
        minorPerMajor: 100,
      });
      expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    });

    it("predicts the paper's example customer (x=2, t_x=30.43, T=38.86): about 1.226 purchases in the next 39 weeks", () => {
      const customer = summaries.get('00004')!; // sample ID 1, the paper's example
      expect(customer.frequency).toBe(2);
      within(right(conditionalExpectedPurchases(record.bgNbd.params, customer, 39)), 1.226, 0.005);
      expect(right(probabilityAlive(record.bgNbd.params, customer))).toBeGreaterThan(0.7);
      const clv = right(
        discountedClv(record.bgNbd.params, record.gammaGamma.params, customer, { months: 12 }),
      );
      expect(clv).toBeGreaterThan(0);
      expect(clv).toBeLessThan(100);
    });
  },
);
