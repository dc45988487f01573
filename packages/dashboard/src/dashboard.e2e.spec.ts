import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHistory } from '@crm-ledger/synthetic';
import { startSeededLedger, type SeededLedger } from './test-support/seeded-ledger.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const imgDir = path.join(repoRoot, 'docs/img');

/** Debian's chromium, never a downloaded browser. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

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
  account: { customer_id: string };
}

/** The page's NPS rule: (promoters - detractors) / responses over the summed cells, one decimal. */
function npsOf(rows: readonly NpsRow[]): string {
  const sum = (f: (r: NpsRow) => number) => rows.reduce((a, r) => a + f(r), 0);
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

  beforeAll(async () => {
    mkdirSync(imgDir, { recursive: true });
    ledger = await startSeededLedger({ customers: CUSTOMERS, seed: SEED });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
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
    await page.goto(`${ledger.url}/dashboard/`);
    await page.waitForSelector('#key-dialog[open]');
    await page.fill('#api-key', ledger.readKey);
    await page.click('#key-submit');
    await ready();

    const nps = await get<{ rows: NpsRow[] }>('/v1/aggregates/nps');
    expect(await text('#kpi-nps')).toBe(npsOf(nps.rows));
    expect(await text('#kpi-customers')).toBe(String(await countCustomers('')));
    expect(await text('#kpi-renewals')).toBe(String(await countCustomers('&renewalWithinDays=90')));
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
    const canvases = page.locator('canvas:not(#chart-clv)');
    expect(await canvases.count()).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < (await canvases.count()); i++) {
      const box = await canvases.nth(i).boundingBox();
      expect((box?.width ?? 0) * (box?.height ?? 0)).toBeGreaterThan(0);
    }
    expect(await page.locator('#list-at-risk a.customer-link').count()).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);

    await page.screenshot({ path: path.join(imgDir, 'dashboard-overview.png'), fullPage: true });
  });

  it('filters re-query the API and redraw: segment changes the customer count, channel the NPS', async () => {
    const all = await text('#kpi-customers');
    await page.selectOption('#f-segment', 'B2B');
    await ready();
    const b2b = await countCustomers('&segment=B2B');
    expect(await text('#kpi-customers')).toBe(String(b2b));
    expect(await text('#kpi-customers')).not.toBe(all);

    const overall = await text('#kpi-nps');
    await page.selectOption('#f-channel', 'email');
    await ready();
    const nps = await get<{ rows: NpsRow[] }>('/v1/aggregates/nps');
    expect(await text('#kpi-nps')).toBe(npsOf(nps.rows.filter((r) => r.channel === 'email')));
    expect(await text('#kpi-nps')).not.toBe(overall);

    await page.fill('#f-from', '2025-01');
    await page.fill('#f-to', '2025-06');
    await page.dispatchEvent('#f-to', 'change');
    await ready();
    const inWindow = await get<{ rows: NpsRow[] }>('/v1/aggregates/nps?from=2025-01-01&to=2025-07-01');
    expect(await text('#kpi-nps')).toBe(npsOf(inWindow.rows.filter((r) => r.channel === 'email')));
    const labels = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }
      ).Chart;
      return chart.getChart('chart-nps').data.labels;
    });
    expect(labels[0]! >= '2025-01' && labels[labels.length - 1]! <= '2025-06').toBe(true);
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
    expect(await rows.first().locator('td').nth(1).textContent()).toBe(live.timeline[0]!.type);
    expect(await text('#source')).toBe('live views');

    const times = live.timeline.map((t) => t.occurredAt).sort();
    const midDay = times[Math.floor(times.length / 2)]!.slice(0, 10);
    await page.fill('#asof', midDay);
    await page.dispatchEvent('#asof', 'change');
    await ready();
    const past = await get<{ timeline: unknown[] }>(
      `/v1/customers/${id}?timeline=500&asOf=${midDay}T23:59:59Z`,
    );
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
      expect(await page.locator('#timeline td', { hasText: 'CustomerRegistered' }).count(), id).toBe(1);
      const shown = await page.locator('body').innerText();
      expect(pii.get(id)!.length, id).toBeGreaterThan(0);
      for (const value of pii.get(id)!) expect(shown, id).not.toContain(value);
    }
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
