import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, type ReadModelStore, type Row } from '@crm-ledger/core';
import { customerStream, EXCHANGE_RATES_CUSTOMER_ID, type RawEnvelope } from '@crm-ledger/events';
import { createHttpServer, generateApiKey, type HttpApp } from '@crm-ledger/http-kit';
import { openSqliteAuthStore } from '@crm-ledger/sqlite';
import { Projector } from '@crm-ledger/projector';
import { openPostgresReadModelStore } from '@crm-ledger/postgres';
import { openSqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { registerQueryRoutes } from './routes.js';

const POSTGRES = process.env.CRM_LEDGER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const event = (customerId: string, type: string, occurredAt: string, data: unknown): RawEnvelope => ({
  eventId: randomUUID(),
  type,
  schemaVersion: 1,
  customerId,
  occurredAt,
  data,
});

/**
 * The same business in three currencies: per currency, one customer buys twice and subscribes. The amounts
 * are chosen so that adding minor units of two currencies gives a number no per-currency figure has, so any
 * aggregate that mixes currencies fails an equality below.
 */
const CURRENCIES = {
  EUR: { purchase: 12_345, mrr: 10_000, expanded: 15_000 }, // 123.45 EUR, MRR 100.00 -> 150.00
  JPY: { purchase: 2_345, mrr: 1_000, expanded: 1_500 }, // 2,345 JPY (exponent 0), MRR 1,000 -> 1,500
  BHD: { purchase: 12_345, mrr: 100_000, expanded: 150_000 }, // 12.345 BHD (exponent 3), MRR 100.000 -> 150.000
} as const;
/**
 * Rates to USD recorded in the ledger: EUR changes in June, JPY is recorded as USD/JPY (used inverted), BHD has
 * a rate only from 2025-02-15 (January's BHD amounts cannot be converted: those figures must say so).
 */
const RATES = [
  { base: 'EUR', quote: 'USD', date: '2025-01-01', rate: '1.25' },
  { base: 'EUR', quote: 'USD', date: '2025-06-01', rate: '1.10' },
  { base: 'USD', quote: 'JPY', date: '2025-01-01', rate: '100' },
  { base: 'BHD', quote: 'USD', date: '2025-02-15', rate: '2.65' },
  // Dated after the asOf of the spec: a conversion as of 2025-12-31 must not see it.
  { base: 'BHD', quote: 'USD', date: '2026-01-01', rate: '9.99' },
];

function history(): { customerId: string; events: RawEnvelope[] }[] {
  const out = Object.entries(CURRENCIES).map(([currency, c]) => {
    const id = `cust-${currency.toLowerCase()}`;
    return {
      customerId: id,
      events: [
        event(id, 'CustomerRegistered', '2025-01-02T00:00:00Z', {
          segment: 'B2B',
          acquisitionChannel: 'referral',
        }),
        event(id, 'PurchaseMade', '2025-01-10T10:00:00Z', {
          orderId: `${id}-o1`,
          amount: { amountMinor: c.purchase, currency },
        }),
        event(id, 'PurchaseMade', '2025-02-10T10:00:00Z', {
          orderId: `${id}-o2`,
          amount: { amountMinor: c.purchase, currency },
        }),
        event(id, 'SubscriptionStarted', '2025-01-15T00:00:00Z', {
          subscriptionId: `${id}-s1`,
          plan: 'pro',
          mrr: { amountMinor: c.mrr, currency },
          termMonths: 12,
          renewalDate: '2026-01-15',
        }),
        event(id, 'SubscriptionExpanded', '2025-03-01T00:00:00Z', {
          subscriptionId: `${id}-s1`,
          mrr: { amountMinor: c.expanded, currency },
        }),
      ],
    };
  });
  // A customer with a second currency: their EUR purchase must appear in the EUR figures, not as an anomaly.
  out.push({
    customerId: 'cust-two',
    events: [
      event('cust-two', 'PurchaseMade', '2025-01-20T00:00:00Z', {
        orderId: 'two-1',
        amount: { amountMinor: 700, currency: 'JPY' },
      }),
      event('cust-two', 'PurchaseMade', '2025-01-21T00:00:00Z', {
        orderId: 'two-2',
        amount: { amountMinor: 1_111, currency: 'EUR' },
      }),
    ],
  });
  out.push({
    customerId: EXCHANGE_RATES_CUSTOMER_ID,
    events: RATES.map((r) =>
      event(EXCHANGE_RATES_CUSTOMER_ID, 'ExchangeRateRecorded', `${r.date}T00:00:00Z`, r),
    ),
  });
  return out;
}

interface Cohort {
  cohort: string;
  currency: string;
  customers: number;
  startMrrMinor: number;
  months: { offset: number; month: string; mrrMinor: number; nrrPct: number }[];
}
interface Retention {
  mrr: Cohort[];
  revenue: Row[];
  converted?: {
    conversion: {
      currency: string;
      rule: string;
      rates: { base: string; quote: string; date: string; rate: string; inverted: boolean }[];
      unconverted: { currency: string; date: string }[];
    };
    mrr: {
      cohort: string;
      currency: string;
      customers: number;
      startMrrMinor: number | null;
      months: { month: string; mrrMinor: number | null; nrrPct: number | null }[];
    }[];
    revenue: Row[];
  };
}

describe('money with its currency: three currencies, rates as events, SQLite and PostgreSQL', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'query-money-'));
  const schema = `money_${randomBytes(5).toString('hex')}`;
  const store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite'), synchronous: 'normal' });
  const stores: { name: string; readModel: ReadModelStore; app: HttpApp }[] = [];
  let key = '';

  const both = async <T>(url: string): Promise<T> => {
    const bodies: T[] = [];
    for (const s of stores) {
      const res = await s.app.inject({ url, headers: { authorization: `Bearer ${key}` } });
      expect(res.statusCode, `${s.name} ${url}: ${res.body}`).toBe(200);
      bodies.push(res.json<T>());
    }
    expect(bodies[1], url).toEqual(bodies[0]);
    return bodies[0]!;
  };

  beforeAll(async () => {
    for (const h of history()) await store.append(customerStream(h.customerId), h.events);
    const keys = openSqliteAuthStore(path.join(dir, 'auth.sqlite')).keys;
    const read = generateApiKey('analyst', ['read'], '2026-01-01T00:00:00Z');
    await keys.add(read.record);
    key = read.key;
    const sqlite = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
    const postgres = await openPostgresReadModelStore({ connectionString: POSTGRES, schema, poolSize: 2 });
    for (const [name, readModel] of [
      ['sqlite', sqlite],
      ['postgres', postgres],
    ] as const) {
      await new Projector({ store, readModel }).catchUp();
      const app = await createHttpServer({ logger: pino({ level: 'silent' }), title: 'test', version: '0' });
      registerQueryRoutes(app, {
        store,
        readModel,
        keys,
        clock: fixedClock('2025-12-31T00:00:00Z'),
        // asOf is a cut: the views as of it are built into a scratch read model of the same kind
        openScratchReadModel: () =>
          name === 'sqlite'
            ? Promise.resolve(openSqliteReadModel({ file: ':memory:' }))
            : openPostgresReadModelStore({
                connectionString: POSTGRES,
                schema: `${schema}__cut_${randomBytes(3).toString('hex')}`,
                poolSize: 2,
                dropOnClose: true,
              }),
      });
      await app.ready();
      stores.push({ name, readModel, app });
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of stores) {
      await s.app.close();
      await s.readModel.close();
    }
    await store.close();
    const c = new pg.Client({ connectionString: POSTGRES });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS "${schema}__rebuild" CASCADE`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the exchange-rate stream is no customer: it has no row in any view, even after a void in it', async () => {
    // A wrong rate recorded then voided: the rates stream is re-folded, and still has no view rows.
    const bad = event(EXCHANGE_RATES_CUSTOMER_ID, 'ExchangeRateRecorded', '2025-03-01T00:00:00Z', {
      base: 'EUR',
      quote: 'USD',
      date: '2025-03-01',
      rate: '9.99',
    });
    await store.append(customerStream(EXCHANGE_RATES_CUSTOMER_ID), [bad]);
    await store.append(customerStream(EXCHANGE_RATES_CUSTOMER_ID), [
      event(EXCHANGE_RATES_CUSTOMER_ID, 'EventVoided', bad.occurredAt, {
        eventId: bad.eventId,
        reason: 'typo',
      }),
    ]);
    for (const { readModel } of stores) await new Projector({ store, readModel }).catchUp();
    for (const { readModel } of stores)
      for (const table of [
        'value_customers',
        'success_accounts',
        'service_customers',
        'experience_customers',
      ])
        expect(
          await readModel.find(table, [
            { column: 'customer_id', op: 'eq', value: EXCHANGE_RATES_CUSTOMER_ID },
          ]),
        ).toEqual([]);
  });

  it('per-customer values keep an amount per currency: a second currency is revenue, not an anomaly', async () => {
    for (const { readModel } of stores) {
      const rows = await readModel.find('value_currencies', [
        { column: 'customer_id', op: 'eq', value: 'cust-two' },
      ]);
      expect(rows.map((r) => [r['currency'], Number(r['gross_revenue_minor'])])).toEqual([
        ['EUR', 1_111],
        ['JPY', 700],
      ]);
      const [c] = await readModel.find('value_customers', [
        { column: 'customer_id', op: 'eq', value: 'cust-two' },
      ]);
      expect(c).toMatchObject({ currency: 'JPY', currencies: 'EUR,JPY' });
      expect(Number(c!['anomalies'])).toBe(0);
    }
  });

  it('retention is per currency: every cohort and revenue row has one currency and only its own amounts', async () => {
    const body = await both<Retention>('/v1/aggregates/retention?asOf=2025-12-31T00:00:00Z&months=3');
    expect(body.converted).toBeUndefined();
    expect(body.mrr.map((c) => [c.currency, c.cohort, c.customers, c.startMrrMinor])).toEqual([
      ['BHD', '2025-01', 1, CURRENCIES.BHD.mrr],
      ['EUR', '2025-01', 1, CURRENCIES.EUR.mrr],
      ['JPY', '2025-01', 1, CURRENCIES.JPY.mrr],
    ]);
    for (const c of body.mrr) {
      const k = CURRENCIES[c.currency as keyof typeof CURRENCIES];
      expect(c.months.map((m) => m.mrrMinor)).toEqual([k.mrr, k.mrr, k.expanded, k.expanded]);
      expect(c.months[2]!.nrrPct).toBe(150);
    }
    const revenue = body.revenue.map((r) => [r['currency'], r['cohort'], r['month'], r['gross_minor']]);
    expect(revenue).toEqual([
      ['BHD', '2025-01', '2025-01', CURRENCIES.BHD.purchase],
      ['BHD', '2025-01', '2025-02', CURRENCIES.BHD.purchase],
      ['BHD', '2025-01', '2025-03', 0],
      ['EUR', '2025-01', '2025-01', CURRENCIES.EUR.purchase + 1_111],
      ['EUR', '2025-01', '2025-02', CURRENCIES.EUR.purchase],
      ['EUR', '2025-01', '2025-03', 0],
      ['JPY', '2025-01', '2025-01', CURRENCIES.JPY.purchase + 700],
      ['JPY', '2025-01', '2025-02', CURRENCIES.JPY.purchase],
      ['JPY', '2025-01', '2025-03', 0],
    ]);
  });

  it('converted: each amount at the rate of its date, every rate stated, ISO exponents, and a figure with no rate at its date says so', async () => {
    const body = await both<Retention>(
      '/v1/aggregates/retention?asOf=2025-12-31T00:00:00Z&months=6&currency=USD',
    );
    const converted = body.converted!;
    expect(converted.conversion.currency).toBe('USD');
    expect(converted.conversion.rule).toContain("month's last day");
    // every rate used, each at its own date: EUR changes in June; the BHD rate of 2026 is not known as of 2025-12-31
    expect(converted.conversion.rates).toEqual([
      { base: 'BHD', quote: 'USD', date: '2025-02-15', rate: '2.65', inverted: false },
      { base: 'EUR', quote: 'USD', date: '2025-01-01', rate: '1.25', inverted: false },
      { base: 'EUR', quote: 'USD', date: '2025-06-01', rate: '1.10', inverted: false },
      { base: 'USD', quote: 'JPY', date: '2025-01-01', rate: '100', inverted: true },
    ]);
    // BHD has no rate on 2025-01-31: January's figures cannot be converted, and say so
    expect(converted.conversion.unconverted).toEqual([{ currency: 'BHD', date: '2025-01-31' }]);
    const [cohort] = converted.mrr;
    expect(converted.mrr).toHaveLength(1);
    expect(cohort).toMatchObject({ cohort: '2025-01', currency: 'USD', customers: 3, startMrrMinor: null });
    // USD cents per month: EUR 100.00/150.00 at 1.25 (1.10 from June), JPY 1,000/1,500 at 1/100, BHD
    // 100.000/150.000 at 2.65 (3 decimals in, 2 out): Feb 125.00 + 10.00 + 265.00; Mar-May 187.50 + 15.00 +
    // 397.50; Jun-Jul 165.00 + 15.00 + 397.50
    expect(cohort!.months.map((m) => [m.month, m.mrrMinor])).toEqual([
      ['2025-01', null],
      ['2025-02', 40_000],
      ['2025-03', 60_000],
      ['2025-04', 60_000],
      ['2025-05', 60_000],
      ['2025-06', 57_750],
      ['2025-07', 57_750],
    ]);
    // NRR needs the start figure, which has no rate: null, never a guess
    expect(cohort!.months.every((m) => m.nrrPct === null)).toBe(true);
    // Revenue: January has a BHD purchase with no rate (null); February: EUR 123.45 * 1.25 = 154.31,
    // JPY 2,345 = 23.45, BHD 12.345 * 2.65 = 32.71 USD
    expect(converted.revenue.map((r) => [r['cohort'], r['month'], r['gross_minor']])).toEqual([
      ['2025-01', '2025-01', null],
      ['2025-01', '2025-02', 15_431 + 2_345 + 3_271],
      ['2025-01', '2025-03', 0],
    ]);
    // The voided 9.99 rate of 2025-03-01 is never used, and as of 2025-04-30 no June rate exists yet
    const april = await both<Retention>(
      '/v1/aggregates/retention?asOf=2025-04-30T00:00:00Z&months=6&currency=USD',
    );
    expect(april.converted!.conversion.rates.map((r) => `${r.base}${r.quote} ${r.date} ${r.rate}`)).toEqual([
      'BHDUSD 2025-02-15 2.65',
      'EURUSD 2025-01-01 1.25',
      'USDJPY 2025-01-01 100',
    ]);
  });

  it('the renewals MRR is per currency, and converted with the rates of the as-of day stated', async () => {
    interface Accounts {
      renewals: {
        customers: number;
        mrr: { currency: string | null; minor: number }[];
        converted?: { minor: number | null; conversion: NonNullable<Retention['converted']>['conversion'] };
      };
    }
    const plain = await both<Accounts>('/v1/aggregates/accounts?asOf=2025-12-31&renewalWithinDays=30');
    // every subscription renews on 2026-01-15: one per currency, each its own MRR, never a sum of two currencies
    expect(plain.renewals.customers).toBe(3);
    expect(plain.renewals.mrr).toEqual([
      { currency: 'BHD', minor: CURRENCIES.BHD.expanded },
      { currency: 'EUR', minor: CURRENCIES.EUR.expanded },
      { currency: 'JPY', minor: CURRENCIES.JPY.expanded },
    ]);
    expect(plain.renewals.converted).toBeUndefined();
    const usd = await both<Accounts>(
      '/v1/aggregates/accounts?asOf=2025-12-31&renewalWithinDays=30&currency=USD',
    );
    expect(usd.renewals.mrr).toEqual(plain.renewals.mrr);
    // 397.50 (BHD 150.000 at 2.65) + 165.00 (EUR 150.00 at 1.10) + 15.00 (JPY 1,500 at 1/100) USD
    expect(usd.renewals.converted!.minor).toBe(39_750 + 16_500 + 1_500);
    expect(usd.renewals.converted!.conversion.rates.map((r) => `${r.base}${r.quote} ${r.date}`)).toEqual([
      'BHDUSD 2025-02-15',
      'EURUSD 2025-06-01',
      'USDJPY 2025-01-01',
    ]);
    expect(usd.renewals.converted!.conversion.unconverted).toEqual([]);
    // In JPY (exponent 0): no EUR/JPY or BHD/JPY pair is recorded (no cross rates are made up): not convertible
    const jpy = await both<Accounts>(
      '/v1/aggregates/accounts?asOf=2025-12-31&renewalWithinDays=30&currency=JPY',
    );
    expect(jpy.renewals.converted!.minor).toBeNull();
    expect(jpy.renewals.converted!.conversion.unconverted).toEqual([
      { currency: 'BHD', date: '2025-12-31' },
      { currency: 'EUR', date: '2025-12-31' },
    ]);
    // The dashboard's renewals tile shows exactly these figures, each with its currency and decimals
    const dashboard = (await import(new URL('../../dashboard/public/api.js', import.meta.url).href)) as {
      renewalsMrrText(r: Accounts['renewals']): string;
      conversionText(c: unknown): string;
    };
    expect(dashboard.renewalsMrrText(plain.renewals)).toBe('MRR 150.000 BHD · 150.00 EUR · 1,500 JPY');
    expect(dashboard.renewalsMrrText(usd.renewals)).toBe(
      'MRR 577.50 USD (150.000 BHD · 150.00 EUR · 1,500 JPY)',
    );
    expect(dashboard.renewalsMrrText(jpy.renewals)).toBe(
      'MRR not convertible into JPY (150.000 BHD · 150.00 EUR · 1,500 JPY)',
    );
    expect(dashboard.conversionText(usd.renewals.converted!.conversion)).toBe(
      'Converted into USD, each amount at the rate of its date: 1 BHD = 2.65 USD (2025-02-15), ' +
        '1 EUR = 1.10 USD (2025-06-01), 1 USD = 100 JPY (2025-01-01).',
    );
  });

  it("the README's converted-retention example answers per currency and converted", async () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const url = /http:\/\/127\.0\.0\.1:4100(\/v1\/aggregates\/retention\?currency=USD)"/.exec(readme)?.[1];
    expect(url).toBe('/v1/aggregates/retention?currency=USD');
    const body = await both<Retention>(url!);
    expect(body.converted!.conversion.currency).toBe('USD');
    expect(new Set(body.mrr.map((c) => c.currency))).toEqual(new Set(['BHD', 'EUR', 'JPY']));
  });

  it('a currency nobody can convert into is a 200 with every figure null and every amount named, never a guess', async () => {
    const body = await both<Retention>('/v1/aggregates/retention?asOf=2025-12-31T00:00:00Z&currency=CHF');
    expect(new Set(body.converted!.conversion.unconverted.map((u) => u.currency))).toEqual(
      new Set(['BHD', 'EUR', 'JPY']),
    );
    expect(body.converted!.conversion.rates).toEqual([]);
    expect(body.converted!.mrr.map((c) => c.startMrrMinor)).toEqual([null]);
    expect(body.converted!.mrr[0]!.months.every((m) => m.mrrMinor === null)).toBe(true);
    expect(body.converted!.revenue.every((r) => r['gross_minor'] === null)).toBe(true);
  });
});
