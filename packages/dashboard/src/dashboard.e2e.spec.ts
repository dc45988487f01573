import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHistory } from '@crm-ledger/synthetic';
import { launchChromium } from './test-support/browser.js';
import { startSeededLedger, type SeededLedger } from './test-support/seeded-ledger.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const imgDir = path.join(repoRoot, 'docs/img');

const CUSTOMERS = 300;
const SEED = 7; // a seed whose 300 customers include erased ones (c-000069, c-000265)

/** The personal data the seed wrote per customer (the generator is deterministic), and who was erased. */
function seededPersonalData(): { pii: Map<string, string[]>; erased: string[] } {
  const pii = new Map<string, string[]>();
  const erased: string[] = [];
  for (const h of generateHistory({ seed: SEED, customers: CUSTOMERS })) {
    const values: string[] = [];
    for (const e of h.events) {
      if (e.type === 'CustomerErased') erased.push(h.customerId);
      if (e.type !== 'CustomerRegistered' && e.type !== 'CustomerProfileUpdated') continue;
      const data = e.data as Record<string, unknown>;
      for (const k of ['name', 'email', 'phone'])
        if (typeof data[k] === 'string' && data[k].length > 3) values.push(data[k]);
    }
    pii.set(h.customerId, values);
  }
  return { pii, erased };
}

interface NpsRow {
  month: string;
  channel: string;
  responses: number;
  promoters: number;
  detractors: number;
}
interface ListItem {
  account: { customer_id: string } & Record<string, unknown>;
}
interface TrendRow {
  metric: 'NPS' | 'CSAT' | 'CES';
  period: string;
  channel?: string;
  responses: number;
  value: number | null;
  promoters: number;
  detractors: number;
}
interface Trend {
  rows: TrendRow[];
  totals: TrendRow[];
}
type ServiceRow = Record<string, number | string | null>;
interface Drawn {
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
}

/** The page's NPS rule: (promoters - detractors) / responses over the summed cells, one decimal. */
function npsOf(rows: readonly Pick<NpsRow, 'responses' | 'promoters' | 'detractors'>[]): string {
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  const nps =
    Math.round(((sum((r) => r.promoters) - sum((r) => r.detractors)) / sum((r) => r.responses)) * 1000) / 10;
  return nps.toLocaleString('en-US');
}

describe('dashboard in headless Chromium over a seeded ledger (300 customers)', () => {
  let ledger: SeededLedger;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  const get = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${ledger.url}${p}`, { headers: { authorization: `Bearer ${ledger.readKey}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const countCustomers = async (query: string): Promise<number> => {
    let n = 0;
    let cursor: string | undefined;
    do {
      const body = await get<{ items: ListItem[]; nextCursor?: string }>(
        `/v1/customers?limit=500${query}${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      n += body.items.length;
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    return n;
  };
  const ready = async () => {
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
  };
  const text = async (selector: string) => (await page.textContent(selector))?.trim() ?? '';
  /** What Chart.js holds for the chart on a canvas: its labels and each dataset's label and numbers. */
  const drawn = (canvas: string): Promise<Drawn> =>
    page.evaluate((id) => {
      const chart = (globalThis as unknown as { Chart: { getChart(id: string): { data: Drawn } } }).Chart;
      const d = chart.getChart(id).data;
      return {
        labels: [...d.labels],
        datasets: d.datasets.map((x) => ({ label: x.label, data: [...x.data] })),
      };
    }, canvas);
  const dataset = (d: Drawn, label: string) => d.datasets.find((x) => x.label === label)?.data;
  /** The line of one metric's trend chart for a channel (or the totals) equals the API's values by period. */
  const expectTrend = async (body: Trend, metric: TrendRow['metric'], canvas: string, channel?: string) => {
    const d = await drawn(canvas);
    const source = channel === undefined ? body.totals : body.rows.filter((r) => r.channel === channel);
    const mine = source.filter((r) => r.metric === metric);
    expect(mine.length, `${metric} ${channel ?? 'all'}`).toBeGreaterThan(0);
    const byPeriod = new Map(mine.map((r) => [r.period, r.value]));
    expect(d.labels).toEqual(body.totals.filter((r) => r.metric === metric).map((r) => r.period));
    expect(dataset(d, channel ?? 'all channels')).toEqual(d.labels.map((p) => byPeriod.get(p) ?? null));
  };
  /** The SLA charts hold the API's p50/p90/p99, SLA targets and breach rates per priority. */
  const expectService = async (rows: ServiceRow[]) => {
    const order = ['urgent', 'high', 'normal', 'low'];
    const sorted = rows
      .filter((r) => order.includes(String(r['priority'])))
      .sort((a, b) => order.indexOf(String(a['priority'])) - order.indexOf(String(b['priority'])));
    const fr = await drawn('chart-first-reply');
    expect(fr.labels).toEqual(sorted.map((r) => `${r['priority']} (${r['tickets']})`));
    for (const q of ['p50', 'p90', 'p99'])
      expect(dataset(fr, `${q} (minutes)`), q).toEqual(sorted.map((r) => r[`first_reply_${q}`]));
    expect(dataset(fr, 'SLA target (minutes)')).toEqual(sorted.map((r) => r['first_reply_sla_minutes']));
    expect(dataset(fr, 'SLA breached (%)')).toEqual(sorted.map((r) => r['first_reply_breach_pct']));
    const res = await drawn('chart-resolution');
    const hours = (v: unknown) => (v === null ? null : Math.round((Number(v) / 60) * 10) / 10);
    expect(dataset(res, 'SLA target (hours)')).toEqual(sorted.map((r) => hours(r['resolution_sla_minutes'])));
    expect(dataset(res, 'p99 (hours)')).toEqual(sorted.map((r) => hours(r['resolution_p99'])));
    expect(dataset(res, 'SLA breached (%)')).toEqual(sorted.map((r) => r['resolution_breach_pct']));
  };

  beforeAll(async () => {
    mkdirSync(imgDir, { recursive: true });
    ledger = await startSeededLedger({ customers: CUSTOMERS, seed: SEED });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, locale: 'en-US' });
    // Every Content-Security-Policy violation of any page of the run is reported here.
    await page.exposeFunction('reportCspViolation', (v: string) => cspViolations.push(v));
    await page.addInitScript(() => {
      const g = globalThis as unknown as {
        document: { addEventListener(t: string, f: (e: Record<string, string>) => void): void };
        reportCspViolation(v: string): void;
      };
      g.document.addEventListener('securitypolicyviolation', (e) =>
        g.reportCspViolation(`${e['violatedDirective']} blocked ${e['blockedURI']}`),
      );
    });
  });
  afterAll(async () => {
    await browser?.close();
    await ledger?.stop();
  });

  it('asks for a read key once, then draws the overview with the seeded numbers', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${ledger.url}/dashboard/`);
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#api-key', ledger.readKey);
    await page.click('#key-submit');
    await ready();

    const nps = await get<{ rows: NpsRow[] }>('/v1/aggregates/nps');
    expect(await text('#kpi-nps')).toBe(npsOf(nps.rows));
    const trend = await get<Trend>('/v1/aggregates/experience-trend?by=month');
    expect(npsOf(trend.totals.filter((r) => r.metric === 'NPS'))).toBe(npsOf(nps.rows));
    for (const [metric, canvas] of [
      ['NPS', 'chart-trend-nps'],
      ['CSAT', 'chart-trend-csat'],
      ['CES', 'chart-trend-ces'],
    ] as const) {
      await expectTrend(trend, metric, canvas);
      await expectTrend(trend, metric, canvas, 'email');
    }
    const service = await get<{ rows: ServiceRow[] }>('/v1/aggregates/service?by=priority');
    expect(service.rows.every((r) => r['first_reply_sla_minutes'] !== null)).toBe(true);
    await expectService(service.rows);
    const clv = await get<{ rows: { segment: string; p50: number }[] }>('/v1/aggregates/clv?by=segment');
    expect(clv.rows.length).toBeGreaterThan(0);
    const drawnClv = await drawn('chart-clv');
    expect(drawnClv.labels).toEqual(clv.rows.map((r) => r.segment));
    expect(dataset(drawnClv, 'p50')).toEqual(clv.rows.map((r) => r.p50));
    expect(await text('#kpi-customers')).toBe(String(await countCustomers('')));
    expect(await text('#kpi-renewals')).toBe(String(await countCustomers('&renewalWithinDays=90')));
    // one silence threshold: the server's (CRM_LEDGER_SILENT_DAYS, default 60), counted by the API's own filter
    const silentAfter = (await get<{ silentAfterDays: number }>('/v1/customers?limit=1')).silentAfterDays;
    expect(await text('#silent-days')).toBe(String(silentAfter));
    expect(Number((await text('#kpi-silent')).replaceAll(',', ''))).toBe(
      await countCustomers(`&silentDays=${silentAfter}`),
    );
    const drivers = await get<{ rows: { tickets: number }[] }>('/v1/aggregates/contact-drivers');
    expect(await text('#kpi-tickets')).toBe(
      drivers.rows.reduce((a, r) => a + r.tickets, 0).toLocaleString('en-US'),
    );

    // The charts hold the API's numbers.
    const gap = await get<{ rows: { satisfied_pct: number }[] }>('/v1/aggregates/perception-gap');
    const drawnGap = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          Chart: { getChart(id: string): { data: { datasets: { data: unknown[] }[] } } };
        }
      ).Chart;
      return chart.getChart('chart-gap').data.datasets[0]!.data;
    });
    expect(drawnGap).toEqual(gap.rows.map((r) => r.satisfied_pct));
    const canvases = page.locator('canvas');
    expect(await canvases.count()).toBe(11);
    for (let i = 0; i < (await canvases.count()); i++) {
      const box = await canvases.nth(i).boundingBox();
      expect((box?.width ?? 0) * (box?.height ?? 0)).toBeGreaterThan(0);
    }
    expect(await page.locator('#list-at-risk a.customer-link').count()).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);

    await page.screenshot({ path: path.join(imgDir, 'dashboard-overview.png'), fullPage: true });
  });

  it('filters re-query the API and redraw: segment changes the customer count, channel the NPS', async () => {
    const all = await text('#kpi-customers');
    await page.selectOption('#f-segment', 'B2B');
    await ready();
    const b2b = await countCustomers('&segment=B2B');
    expect(await text('#kpi-customers')).toBe(String(b2b));
    expect(await text('#kpi-customers')).not.toBe(all);
    // The segment reaches the trends and the SLA charts too.
    const trendB2b = await get<Trend>('/v1/aggregates/experience-trend?by=month&segment=B2B');
    const trendAll = await get<Trend>('/v1/aggregates/experience-trend?by=month');
    expect(trendB2b.totals).not.toEqual(trendAll.totals);
    await expectTrend(trendB2b, 'CSAT', 'chart-trend-csat');
    const cesChannels = new Map<string, number>();
    for (const r of trendB2b.rows.filter((x) => x.metric === 'CES'))
      cesChannels.set(r.channel!, (cesChannels.get(r.channel!) ?? 0) + r.responses);
    const busiest = [...cesChannels.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    await expectTrend(trendB2b, 'CES', 'chart-trend-ces', busiest);
    await expectService(
      (await get<{ rows: ServiceRow[] }>('/v1/aggregates/service?by=priority&segment=B2B')).rows,
    );

    const overall = await text('#kpi-nps');
    await page.selectOption('#f-channel', 'email');
    await ready();
    const emailB2b = await get<Trend>('/v1/aggregates/experience-trend?by=month&segment=B2B&channel=email');
    expect(await text('#kpi-nps')).toBe(npsOf(emailB2b.totals.filter((r) => r.metric === 'NPS')));
    expect(await text('#kpi-nps')).not.toBe(overall);
    const csat = await drawn('chart-trend-csat');
    expect(csat.datasets.map((d) => d.label)).toEqual(['email']);
    await expectTrend(emailB2b, 'CSAT', 'chart-trend-csat', 'email');
    await expectService(
      (await get<{ rows: ServiceRow[] }>('/v1/aggregates/service?by=priority&segment=B2B&channel=email'))
        .rows,
    );
    await page.selectOption('#f-segment', '');
    await ready();
    const nps = await get<{ rows: NpsRow[] }>('/v1/aggregates/nps');
    expect(await text('#kpi-nps')).toBe(npsOf(nps.rows.filter((r) => r.channel === 'email')));

    await page.fill('#f-from', '2025-01');
    await page.fill('#f-to', '2025-06');
    await page.dispatchEvent('#f-to', 'change');
    await ready();
    const inWindow = await get<{ rows: NpsRow[] }>('/v1/aggregates/nps?from=2025-01-01&to=2025-07-01');
    expect(await text('#kpi-nps')).toBe(npsOf(inWindow.rows.filter((r) => r.channel === 'email')));
    const labels = (await drawn('chart-trend-nps')).labels;
    expect(labels).toEqual(['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06']);
    await expectTrend(
      await get<Trend>(
        '/v1/aggregates/experience-trend?by=month&channel=email&from=2025-01-01&to=2025-07-01',
      ),
      'CES',
      'chart-trend-ces',
      'email',
    );
    const drivers = await get<{ rows: { month: string; tickets: number }[] }>(
      '/v1/aggregates/contact-drivers?channel=email&from=2025-01-01&to=2025-07-01',
    );
    const drawnDrivers = await drawn('chart-drivers');
    expect(drawnDrivers.labels).toEqual(labels);
    const stacked = drawnDrivers.labels.map((_, i) =>
      drawnDrivers.datasets.reduce((a, d) => a + (d.data[i] ?? 0), 0),
    );
    expect(stacked).toEqual(
      labels.map((m) => drivers.rows.filter((r) => r.month === m).reduce((a, r) => a + r.tickets, 0)),
    );
  });

  it('opens the customer 360 from a list and shows that customer\u2019s timeline, also as of an earlier date', async () => {
    await page.selectOption('#f-segment', '');
    await page.selectOption('#f-channel', '');
    await page.fill('#f-from', '');
    await page.fill('#f-to', '');
    await page.dispatchEvent('#f-to', 'change');
    await ready();
    const link = page.locator('#list-at-risk a.customer-link').first();
    const id = (await link.textContent())!.trim();
    await link.click();
    await page.waitForURL(/customer\.html\?id=/);
    await ready();
    expect(await text('#customer-id')).toBe(id);

    const live = await get<{ timeline: { type: string; occurredAt: string }[] }>(
      `/v1/customers/${id}?timeline=500`,
    );
    const rows = page.locator('#timeline tbody tr');
    expect(await rows.count()).toBe(live.timeline.length);
    expect(await rows.first().getAttribute('data-type')).toBe(live.timeline[0]!.type);
    expect(await text('#source')).toBe('live views');

    const times = live.timeline.map((t) => t.occurredAt).sort();
    const midDay = times[Math.floor(times.length / 2)]!.slice(0, 10);
    await page.fill('#asof', midDay);
    await page.dispatchEvent('#asof', 'change');
    await ready();
    const past = await get<{ timeline: unknown[] }>(`/v1/customers/${id}?timeline=500&asOf=${midDay}`);
    expect(await rows.count()).toBe(past.timeline.length);
    expect(past.timeline.length).toBeLessThan(live.timeline.length);
    expect(await text('#source')).toContain('folded');
    expect(page.url()).toContain(`asOf=${midDay}`);

    await page.click('#asof-now');
    await ready();
    expect(await rows.count()).toBe(live.timeline.length);
    await page.screenshot({ path: path.join(imgDir, 'dashboard-customer.png'), fullPage: true });
  });

  it('shows no personal data on the 360 page, for an erased customer neither', async () => {
    const { pii, erased } = seededPersonalData();
    expect(erased.length).toBeGreaterThan(0);
    // Runs alone too (vitest -t): the key the first test typed in, put in the tab's sessionStorage directly.
    await page.addInitScript((key) => {
      const g = globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } };
      g.sessionStorage.setItem('crm-ledger.readKey', key);
    }, ledger.readKey);
    for (const id of [erased[0]!, 'c-000007']) {
      await page.goto(`${ledger.url}/dashboard/customer.html?id=${id}`);
      await ready();
      expect(await text('#customer-id')).toBe(id);
      // The timeline is drawn (with the registration that carried the personal data), just without it.
      expect(await page.locator('#timeline tr[data-type="CustomerRegistered"]').count(), id).toBe(1);
      const shown = await page.locator('body').innerText();
      expect(pii.get(id)!.length, id).toBeGreaterThan(0);
      for (const value of pii.get(id)!) expect(shown, id).not.toContain(value);
    }
  });

  it('shows money in its currency: renewals MRR per currency, cohorts per currency, a converted view that names its rates', async () => {
    const money = (await import(new URL('../public/api.js', import.meta.url).href)) as {
      renewalsMrrText(renewals: unknown): string;
      sumByCurrency(rows: { minor: number; currency?: string | null }[]): Map<string, number>;
      fmt: { moneys(m: Map<string, number>): string; money(minor: number, currency: string): string };
    };
    await page.addInitScript((key) => {
      const g = globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } };
      g.sessionStorage.setItem('crm-ledger.readKey', key);
    }, ledger.readKey);
    await page.goto(`${ledger.url}/dashboard/`);
    await ready();
    const renewals: ListItem[] = [];
    let cursor: string | undefined;
    do {
      const body = await get<{ items: ListItem[]; nextCursor?: string }>(
        `/v1/customers?limit=500&renewalWithinDays=90${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      renewals.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    const sums = money.sumByCurrency(
      renewals.map((i) => ({
        minor: i.account['mrr_minor'] as number,
        currency: i.account['mrr_currency'] as string | null,
      })),
    );
    expect(sums.size).toBeGreaterThan(1); // the seeded history bills in several currencies
    expect(await text('#kpi-renewals-sub')).toBe(`MRR ${money.fmt.moneys(sums)}`);
    // Every retention cohort is one currency's.
    const retention = await get<{ mrr: { cohort: string; currency: string }[] }>(
      '/v1/aggregates/retention?months=12',
    );
    expect(new Set(retention.mrr.map((c) => c.currency)).size).toBeGreaterThan(1);
    for (const d of (await drawn('chart-retention')).datasets)
      expect(d.label).toMatch(/^\d{4}-\d{2} [A-Z]{3} \(\d+\)$/);
    // Reporting in USD before any rate is recorded: no figure with another currency is converted, and the
    // note says which amounts had no rate; the renewals tile says its MRR is not convertible.
    await page.selectOption('#f-currency', 'USD');
    await ready();
    expect(await text('#retention-note')).toMatch(
      /^Converted into USD, each amount at the rate of its date: no rate used\. No rate for [A-Z]{3} on \d{4}-\d{2}-\d{2}/,
    );
    const summaryUsd = async () =>
      (
        await get<{ renewals: { converted: { minor: number | null } } }>(
          '/v1/aggregates/accounts?renewalWithinDays=90&currency=USD',
        )
      ).renewals;
    const before = await summaryUsd();
    expect(before.converted.minor).toBeNull();
    expect(await text('#kpi-renewals-sub')).toBe(money.renewalsMrrText(before));
    expect(await text('#kpi-renewals-sub')).toMatch(/^MRR not convertible into USD \(/);
    // Rates recorded as events for every currency but one: the chart draws the API's converted cohorts,
    // the note names each rate and the currency left out.
    const currencies = [...new Set(retention.mrr.map((c) => c.currency))].filter((c) => c !== 'USD').sort();
    const [left, ...rated] = currencies;
    await ledger.append(
      'fx-rates',
      rated.map((base, i) => ({
        eventId: `7d3c1f0e-1b2a-4c5d-8e9f-${String(i).padStart(12, '0')}`,
        type: 'ExchangeRateRecorded',
        schemaVersion: 1,
        customerId: 'fx-rates',
        occurredAt: '2020-01-01T00:00:00Z',
        data: { base, quote: 'USD', date: '2020-01-01', rate: '0.5' },
      })),
    );
    await page.selectOption('#f-currency', '');
    await ready();
    await page.selectOption('#f-currency', 'USD');
    await ready();
    const converted = await get<{
      converted: {
        mrr: { cohort: string; currency: string; customers: number; months: { nrrPct: number }[] }[];
      };
    }>('/v1/aggregates/retention?months=12&currency=USD');
    const chart = await drawn('chart-retention');
    expect(chart.datasets.length).toBeGreaterThan(0);
    for (const d of chart.datasets) {
      expect(d.label).toMatch(/^\d{4}-\d{2} USD \(\d+\)$/);
      const cohort = converted.converted.mrr.find((c) =>
        d.label.startsWith(`${c.cohort} USD (${c.customers})`),
      );
      expect(d.data).toEqual(cohort!.months.map((m) => m.nrrPct));
    }
    const note = await text('#retention-note');
    for (const base of rated) expect(note).toContain(`1 ${base} = 0.5 USD (2020-01-01)`);
    expect(note).toContain(`No rate for ${left} on `);
    // the renewals tile: per currency, and converted (or not convertible, while one currency has no rate)
    expect(await text('#kpi-renewals-sub')).toBe(money.renewalsMrrText(await summaryUsd()));
    await page.selectOption('#f-currency', '');
    await ready();
    // A customer billed in yen reads in yen, without decimals.
    const all = await get<{ items: ListItem[] }>('/v1/customers?limit=500&sort=mrr_minor&direction=desc');
    const yen = all.items.find(
      (i) => i.account['mrr_currency'] === 'JPY' && Number(i.account['mrr_minor']) > 0,
    );
    expect(yen).toBeDefined();
    await page.goto(`${ledger.url}/dashboard/customer.html?id=${yen!.account.customer_id}`);
    await ready();
    const mrr = money.fmt.money(yen!.account['mrr_minor'] as number, 'JPY');
    expect(mrr).not.toContain('.');
    expect(await text('#success-facts')).toContain(`MRR ${mrr}`);
  });

  it('lists the open signals to act on (exactly the open one), linked to the 360, with the follow-up figures', async () => {
    // Two new customers, each with a "went silent" signal: one still open, one acted on by an outreach 90
    // minutes later (its causationId names the signal). The seeded history has no signal.
    const customer = (id: string, n: number, at: string) => [
      {
        eventId: `5e1a0000-0000-4000-8000-${String(n * 10 + 1).padStart(12, '0')}`,
        type: 'CustomerRegistered',
        schemaVersion: 1,
        customerId: id,
        occurredAt: '2025-09-01T00:00:00Z',
        data: { segment: 'B2B', acquisitionChannel: 'partner' },
      },
      {
        eventId: `5e1a0000-0000-4000-8000-${String(n * 10 + 2).padStart(12, '0')}`,
        type: 'CustomerWentSilent',
        schemaVersion: 1,
        customerId: id,
        occurredAt: at,
        data: { silentDays: 60, lastInteractionAt: '2025-09-01T00:00:00.000Z' },
      },
    ];
    const open = customer('c-sig-open', 1, '2025-12-01T00:00:00Z');
    const acted = customer('c-sig-acted', 0, '2025-10-31T00:00:00Z');
    await ledger.append('c-sig-open', open);
    await ledger.append('c-sig-acted', [
      ...acted,
      {
        eventId: '5e1a0000-0000-4000-8000-000000000099',
        type: 'OutreachMade',
        schemaVersion: 1,
        customerId: 'c-sig-acted',
        occurredAt: '2025-10-31T01:30:00Z',
        causationId: acted[1]!.eventId,
        data: { kind: 'check_in', by: 'csm-1', channel: 'phone' },
      },
    ]);
    await page.goto(`${ledger.url}/dashboard/`);
    await ready();
    const rows = page.locator('#list-signals tbody tr');
    expect(await rows.count()).toBe(1);
    const cells = (await rows.first().locator('td').allTextContents()).map((c) => c.trim());
    expect(cells[0]).toBe('went silent');
    expect(cells[1]).toBe('c-sig-open');
    expect(cells[2]).toBe(open[1]!.occurredAt.slice(0, 10));
    // "now" is the server's 2026-01-01 only for the API; the page ages the signal against the browser's clock
    expect(cells[3]).toMatch(/^\d+ (d|h)$/);
    expect(await page.locator('#list-signals [data-type="CustomerWentSilent"]').count()).toBe(1);
    expect(await page.locator('#list-signals a.customer-link').getAttribute('href')).toBe(
      'customer.html?id=c-sig-open',
    );
    // the follow-up: one raised per customer, one acted on after 90 minutes
    expect(await page.locator('#list-signal-followup tbody tr').count()).toBe(2);
    const cellsOf = async (i: number) =>
      (await page.locator('#list-signal-followup tbody tr').nth(i).locator('td').allTextContents()).map((c) =>
        c.trim(),
      );
    expect(await cellsOf(0)).toEqual(['went silent', '2', '1', '1', '0', '50.0 %', '90 min']);
    expect(await cellsOf(1)).toEqual(['all signals', '2', '1', '1', '0', '50.0 %', '90 min']);
    // the list links to the 360 of the customer
    await page.click('#list-signals a.customer-link');
    await ready();
    expect(page.url()).toContain('customer.html?id=c-sig-open');
    expect(cspViolations).toEqual([]);
  });

  it('works under the Content-Security-Policy of the server: no violation on either page', async () => {
    const res = await fetch(`${ledger.url}/dashboard/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await page.addInitScript((key) => {
      const g = globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } };
      g.sessionStorage.setItem('crm-ledger.readKey', key);
    }, ledger.readKey);
    await page.goto(`${ledger.url}/dashboard/`);
    await ready();
    expect(await page.locator('canvas').count()).toBeGreaterThan(0);
    await page.goto(`${ledger.url}/dashboard/customer.html?id=c-000007`);
    await ready();
    expect(cspViolations).toEqual([]);
    // The watch works: an inline script (what an injection would add) is blocked and reported.
    await page.evaluate(() => {
      const d = (
        globalThis as unknown as {
          document: {
            createElement(t: string): { textContent: string };
            body: { appendChild(n: unknown): void };
          };
        }
      ).document;
      const s = d.createElement('script');
      s.textContent = 'globalThis.injected = true';
      d.body.appendChild(s);
    });
    await expect.poll(() => cspViolations.length).toBe(1);
    expect(cspViolations[0]).toContain('script-src');
    expect(await page.evaluate(() => (globalThis as unknown as { injected?: boolean }).injected)).toBe(
      undefined,
    );
  });
});
