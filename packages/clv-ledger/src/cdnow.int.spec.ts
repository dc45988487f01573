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
import { customerViewsAsOf } from '@crm-ledger/projector';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { fitClvFromStore } from './from-store.js';
import { fitClvOnSummaries, type ClvFitRecord } from './fit.js';
import { writeClvToReadModel } from './read-model.js';
import { summariesFromValueRows, type ValueCustomerRow } from './value-view.js';

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
    /** The fit on the value view's summaries (the projection, time-travelled to the calibration end). */
    let record: ClvFitRecord;
    let summaries: Map<string, RfmValueSummary>;
    /** The fit on the store's PurchaseMade events folded directly (the fast path for large logs). */
    let logRecord: ClvFitRecord;
    let logSummaries: Map<string, RfmValueSummary>;
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
        // 3. The value projection computes each customer's first/last purchase, purchase days and repeat
        //    revenue as of the calibration end (time travel on occurredAt: the whole last day is in).
        const rows: ValueCustomerRow[] = [];
        for (const customerId of byCustomer.keys()) {
          const views = await customerViewsAsOf(store, customerId, {
            asOf: '1997-09-30T23:59:59.999Z',
          });
          if (E.isLeft(views)) throw new Error(views.left);
          rows.push(...(views.right.views.value.value_customers ?? []));
        }
        const fromView = right(summariesFromValueRows(rows, CALIBRATION));
        const fit = right(
          fitClvOnSummaries(
            fromView.summaries,
            fromView.firstPurchaseDay,
            fromView.data,
            CALIBRATION,
            '2026-01-01T00:00:00.000Z',
          ),
        );
        record = fit.record;
        summaries = fit.summaries;
        // 4. The same from the event log folded directly.
        const logFit = right(
          await fitClvFromStore(store, CALIBRATION, fixedClock('2026-01-01T00:00:00.000Z')),
        );
        logRecord = logFit.record;
        logSummaries = logFit.summaries;
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
      expect(record.data).toEqual({
        source: 'value-view',
        purchases: 4960,
        afterWindow: null,
        otherCurrency: 0,
      });
      expect(logRecord.data).toEqual({
        source: 'event-log',
        purchases: 4960,
        afterWindow: 1959,
        otherCurrency: 0,
      });
    });

    it("the value view's per-customer frequency, recency and T equal cdnow_customers_summary.csv, zbar the published mean repeat spend", () => {
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

    it('the event-log fold gives exactly the same summaries and parameters as the value view', () => {
      expect(new Map([...logSummaries].sort())).toEqual(new Map([...summaries].sort()));
      expect(logRecord.bgNbd).toEqual(record.bgNbd);
      expect(logRecord.gammaGamma).toEqual(record.gammaGamma);
      expect(logRecord.window).toEqual(record.window);
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
    it("writes the fit and every customer's scores to a real SQLite read model, replaced whole by a refit", async () => {
      const readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
      try {
        const first = await writeClvToReadModel(readModel, record, summaries, 6919);
        expect(first).toEqual({ customers: 2357, unscored: 0 });
        const paperCustomer = await readModel.get('clv_customers', { customer_id: '00004' });
        expect(paperCustomer).toMatchObject({
          frequency: 2,
          fitted_at: '2026-01-01T00:00:00.000Z',
          clv_months: 12,
        });
        expect(Number(paperCustomer!.p_alive)).toBeCloseTo(0.7266, 3);
        // A refit (here: the same data, a later date) replaces the tables whole.
        const later = { ...record, fittedAt: '2026-02-01T00:00:00.000Z' };
        await writeClvToReadModel(readModel, later, summaries, 6919);
        const fits = await readModel.list('clv_fit', { limit: 10 });
        expect(fits.rows.map((r) => r.fitted_at)).toEqual(['2026-02-01T00:00:00.000Z']);
        expect(Number(fits.rows[0]!.r)).toBeCloseTo(record.bgNbd.params.r, 10);
        const counts = await readModel.aggregate('clv_customers', {
          groupBy: ['fitted_at'],
          measures: [
            { as: 'customers', fn: 'count' },
            { as: 'total_clv', fn: 'sum', column: 'clv' },
          ],
        });
        expect(counts).toHaveLength(1);
        expect(counts[0]).toMatchObject({ fitted_at: '2026-02-01T00:00:00.000Z', customers: 2357 });
        expect(Number(counts[0]!.total_clv)).toBeGreaterThan(0);
      } finally {
        await readModel.close();
      }
    });
  },
);
