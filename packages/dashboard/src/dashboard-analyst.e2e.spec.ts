// What an analyst reads on the dashboard (issue #20): tables whose every column can be read, the timeline in
// words with links, clear empty and not-found states, axes that start where they should, lists filtered and
// paged by the server, and the CLV fit's status. Headless Debian chromium over a seeded ledger.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, withReadKey } from './test-support/browser.js';
import { startSeededLedger, type SeededLedger } from './test-support/seeded-ledger.js';

/** The few DOM shapes the checks read inside the page (this package compiles without the DOM library). */
interface Box {
  left: number;
  right: number;
  width: number;
}
interface El {
  scrollWidth: number;
  clientWidth: number;
  scrollLeft: number;
  textContent: string | null;
  parentElement: El | null;
  getBoundingClientRect(): Box;
  querySelectorAll(selector: string): ArrayLike<El>;
  getAttribute(name: string): string | null;
}
interface Win {
  document: { getElementById(id: string): El | null; querySelectorAll(selector: string): ArrayLike<El> };
  getComputedStyle(e: El): { textAlign: string; position: string; overflowX: string; whiteSpace: string };
  Chart: { getChart(id: string): { scales: Record<string, { min: number; max: number }> } | undefined };
}

interface TimelineEntry {
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}
interface ListItem {
  account: { customer_id: string } & Record<string, unknown>;
}

const LISTS = ['list-at-risk', 'list-silent', 'list-renewals'] as const;
const PAGE_SIZE = 20;

describe('the dashboard an analyst reads (headless Chromium, 300 seeded customers)', () => {
  let ledger: SeededLedger;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const get = async <T>(p: string, status = 200): Promise<T> => {
    const res = await fetch(`${ledger.url}${p}`, { headers: { authorization: `Bearer ${ledger.readKey}` } });
    expect(res.status, p).toBe(status);
    return (await res.json()) as T;
  };
  const ready = (state = 'ready') => page.waitForSelector(`body[data-state="${state}"]`, { timeout: 30_000 });
  const text = async (selector: string) => (await page.textContent(selector))?.trim() ?? '';
  const open = async (p: string, state = 'ready') => {
    await page.goto(`${ledger.url}/dashboard/${p}`);
    await ready(state);
  };

  beforeAll(async () => {
    ledger = await startSeededLedger({ customers: 300, seed: 7 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, locale: 'en-US' });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await withReadKey(page, ledger.readKey);
  });
  afterAll(async () => {
    await browser?.close();
    await ledger?.stop();
  });

  /** Per table: its width and its scroll box's, the box's overflow, and the first column's position. */
  const tableFit = (id: string) =>
    page.evaluate((tid) => {
      const g = globalThis as unknown as Win;
      const t = g.document.getElementById(tid)!;
      const box = t.parentElement!;
      const first = t.querySelectorAll('td:first-child')[0];
      return {
        table: t.scrollWidth,
        box: box.clientWidth,
        overflowX: g.getComputedStyle(box).overflowX,
        firstPosition: first === undefined ? 'none' : g.getComputedStyle(first).position,
      };
    }, id);

  it('tables: every column fits its panel at 1440 px, scrolls sideways with the first column in view when narrow; numbers right-aligned, money with its currency', async () => {
    await open('');
    for (const id of [...LISTS, 'list-pain-points']) {
      const fit = await tableFit(id);
      expect(fit.table, `${id} is wider than its panel`).toBeLessThanOrEqual(fit.box);
      expect(fit.firstPosition, id).toBe('sticky');
    }
    // Numbers and money right-aligned; every MRR names its currency.
    const cells = await page.evaluate(() => {
      const g = globalThis as unknown as Win;
      return Array.from(g.document.querySelectorAll('table td.num')).map((td) => ({
        align: g.getComputedStyle(td).textAlign,
        text: td.textContent ?? '',
      }));
    });
    expect(cells.length).toBeGreaterThan(20);
    for (const c of cells) expect(c.align, c.text).toBe('right');
    const mrr = await page.locator('#list-renewals tbody tr td:nth-child(3)').allTextContents();
    expect(mrr.length).toBeGreaterThan(0);
    for (const m of mrr) expect(m).toMatch(/^(\d{1,3}(,\d{3})*(\.\d+)? [A-Z]{3}|–)$/);
    // The "why" of the at-risk list wraps instead of widening the table.
    const why = page.locator('#list-at-risk tbody td.wrap').first();
    expect(
      await why.evaluate((td) => (globalThis as unknown as Win).getComputedStyle(td as El).whiteSpace),
    ).toBe('normal');

    // The customer 360 at 1440 px: the tickets, channels and timeline tables fit.
    const withTickets = await customerWith('TicketOpened');
    await open(`customer.html?id=${withTickets}`);
    for (const id of ['service-tickets', 'experience-channels', 'timeline']) {
      const fit = await tableFit(id);
      expect(fit.table, `${id} is wider than its panel`).toBeLessThanOrEqual(fit.box);
    }

    // A narrow window: a table wider than its panel scrolls, its last column can be reached and its first
    // column stays in view.
    await page.setViewportSize({ width: 520, height: 900 });
    await open('');
    const scrolled = await page.evaluate(() => {
      const g = globalThis as unknown as Win;
      const t = g.document.getElementById('list-renewals')!;
      const box = t.parentElement!;
      box.scrollLeft = box.scrollWidth;
      const b = box.getBoundingClientRect();
      const headers = t.querySelectorAll('th');
      const first = headers[0]!.getBoundingClientRect();
      const last = headers[headers.length - 1]!.getBoundingClientRect();
      return {
        wider: t.scrollWidth > box.clientWidth,
        overflowX: g.getComputedStyle(box).overflowX,
        scrollLeft: box.scrollLeft,
        firstLeft: first.left - b.left,
        lastRight: b.right - last.right,
      };
    });
    expect(scrolled.wider).toBe(true);
    expect(scrolled.overflowX).toBe('auto');
    expect(scrolled.scrollLeft).toBeGreaterThan(0);
    expect(Math.abs(scrolled.firstLeft)).toBeLessThan(2); // the customer column stays at the left edge
    expect(scrolled.lastRight).toBeGreaterThanOrEqual(-1); // the last column is in the box
    await page.setViewportSize({ width: 1440, height: 1000 });

    // In the reader's locale: a German browser groups digits with points and writes decimal commas.
    const de = await browser.newPage({ viewport: { width: 1440, height: 1000 }, locale: 'de-DE' });
    await withReadKey(de, ledger.readKey);
    await de.goto(`${ledger.url}/dashboard/`);
    await de.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
    const drivers = await get<{ rows: { tickets: number }[] }>('/v1/aggregates/contact-drivers');
    const tickets = drivers.rows.reduce((a, r) => a + r.tickets, 0);
    expect(tickets).toBeGreaterThan(999);
    expect((await de.textContent('#kpi-tickets'))?.trim()).toBe(tickets.toLocaleString('de-DE'));
    const deMrr = await de.locator('#list-renewals tbody tr td:nth-child(3)').allTextContents();
    expect(deMrr.some((m) => /^\d{1,3}(\.\d{3})*,\d{2} [A-Z]{3}$/.test(m))).toBe(true);
    await de.close();
  });

  /** The first customer (by id) whose timeline holds an event of `type`. */
  const customerWith = async (type: string, also?: string): Promise<string> => {
    const list = await get<{ items: ListItem[] }>('/v1/customers?limit=60');
    for (const i of list.items) {
      const id = i.account.customer_id;
      const c = await get<{ timeline: TimelineEntry[] }>(`/v1/customers/${id}?timeline=500`);
      const types = new Set(c.timeline.map((e) => e.type));
      if (types.has(type) && (also === undefined || types.has(also))) return id;
    }
    throw new Error(`no customer with ${type}`);
  };

  it('the 360 timeline reads in sentences with links, never JSON: tickets link to their row, the customer to the 360', async () => {
    const id = await customerWith('TicketOpened', 'PurchaseMade');
    const live = await get<{ timeline: TimelineEntry[] }>(`/v1/customers/${id}?timeline=500`);
    await open(`customer.html?id=${id}`);
    const rows = page.locator('#timeline tbody tr');
    expect(await rows.count()).toBe(live.timeline.length);
    const sentences = await page.locator('#timeline tbody tr td:nth-child(2)').allTextContents();
    for (const [i, s] of sentences.entries()) {
      const type = live.timeline[i]!.type;
      expect(await rows.nth(i).getAttribute('data-type')).toBe(type);
      expect(s, type).not.toBe(type); // every seeded type has its sentence
      expect(s, type).not.toMatch(/[{}"]|\w=\S/); // no JSON, no key=value
    }
    // "Ticket T opened on email about billing (priority high)", the ticket linking to its row of the Tickets table.
    const opened = live.timeline.findIndex((e) => e.type === 'TicketOpened');
    const d = live.timeline[opened]!.data as Record<string, string>;
    expect(sentences[opened]).toBe(
      `Ticket ${d['ticketId']} opened on ${d['channel']} about ${d['category']!.replaceAll('_', ' ')} (priority ${d['priority']})`,
    );
    const link = rows.nth(opened).locator('a');
    expect(await link.getAttribute('href')).toBe(`#ticket-${d['ticketId']}`);
    expect(await page.locator(`#service-tickets [id="ticket-${d['ticketId']}"]`).count()).toBe(1);
    // Money in its currency.
    const purchase = live.timeline.findIndex((e) => e.type === 'PurchaseMade');
    const amount = live.timeline[purchase]!.data['amount'] as { currency: string };
    expect(sentences[purchase]).toMatch(new RegExp(`paid: [\\d,.]+ ${amount.currency}`));
    // The registration names the customer, linking to the live 360.
    const registered = page.locator('#timeline tbody tr[data-type="CustomerRegistered"] a');
    expect(await registered.getAttribute('href')).toBe(`customer.html?id=${id}`);
    expect(await registered.textContent()).toBe(id);
    expect(pageErrors).toEqual([]);
  });

  it('says so when there is nothing: an unknown customer (the API answers 404), no events up to a date, empty lists and charts', async () => {
    await get('/v1/customers/nobody-here', 404);
    await open('customer.html?id=nobody-here', 'not-found');
    expect(await text('#not-found')).toBe('No customer nobody-here in the ledger.');
    expect(await page.locator('#not-found code').textContent()).toBe('nobody-here');
    expect(await page.locator('main').isVisible()).toBe(false);
    // No empty chart with 1970 axes anywhere.
    expect(await page.evaluate(() => (globalThis as unknown as Win).Chart.getChart('chart-journey'))).toBe(
      undefined,
    );
    expect(await page.locator('body').innerText()).not.toContain('1970');

    // A real customer as of a day before its first event: not found up to that day.
    await open('customer.html?id=c-000007&asOf=2000-01-01', 'not-found');
    expect(await text('#not-found')).toBe('No events of c-000007 in the ledger up to 2000-01-01.');
    // "Now" brings the customer back.
    await page.click('#asof-now');
    await ready();
    expect(await page.locator('main').isVisible()).toBe(true);

    // A customer without tickets: the Tickets table says so.
    const list = await get<{ items: ListItem[] }>('/v1/customers?limit=100');
    let quiet: string | undefined;
    for (const i of list.items) {
      const c = await get<{ service: { tickets: unknown[] } }>(
        `/v1/customers/${i.account.customer_id}?timeline=0`,
      );
      if (c.service.tickets.length === 0) {
        quiet = i.account.customer_id;
        break;
      }
    }
    expect(quiet).toBeDefined();
    await open(`customer.html?id=${quiet}`);
    expect(await text('#service-tickets tbody td.empty')).toBe('No tickets.');

    // A period with no data: each trend chart says so instead of drawing empty axes.
    await open('');
    await page.fill('#f-from', '2031-01');
    await page.fill('#f-to', '2031-02');
    await page.dispatchEvent('#f-to', 'change');
    await ready();
    for (const canvas of ['chart-trend-nps', 'chart-trend-csat', 'chart-drivers', 'chart-gap']) {
      expect(
        await page.evaluate((c) => (globalThis as unknown as Win).Chart.getChart(c), canvas),
        canvas,
      ).toBe(undefined);
      expect(await page.locator(`#${canvas}`).isVisible(), canvas).toBe(false);
      expect(await page.locator(`.chart:has(#${canvas}) .chart-empty`).textContent()).toBe(
        'No data for these filters.',
      );
    }
    // An "as of" long before the history: no renewal in the window; the list says so, with no next page.
    await page.fill('#f-from', '');
    await page.fill('#f-to', '');
    await page.fill('#f-asof', '2001-01-01');
    await page.dispatchEvent('#f-asof', 'change');
    await ready();
    const renewals = await get<{ items: unknown[] }>('/v1/customers?renewalWithinDays=90&asOf=2001-01-01');
    expect(renewals.items).toEqual([]);
    expect(await text('#list-renewals tbody td.empty')).toBe('No renewal in the next 90 days.');
    expect(await text('#kpi-renewals')).toBe('0');
    expect(await page.locator('#list-renewals-pager button.next').isDisabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('axes start where they should: rates on 0–100 %, counts from 0', async () => {
    await open('');
    const axes = await page.evaluate(() => {
      const { Chart } = globalThis as unknown as Win;
      const axis = (id: string, a: string) => {
        const s = Chart.getChart(id)!.scales[a]!;
        return { min: s.min, max: s.max };
      };
      return {
        retention: axis('chart-retention', 'y'),
        csat: axis('chart-trend-csat', 'y'),
        gap: axis('chart-gap', 'y'),
        channels: axis('chart-channels', 'x'),
        breachedFirstReply: axis('chart-first-reply', 'pct'),
        drivers: axis('chart-drivers', 'y'),
        health: axis('chart-health', 'y'),
        clv: axis('chart-clv', 'y'),
      };
    });
    // Retention: from 0, and up to at least 100 % (higher only when a cohort grew beyond its month 0).
    const drawnNrr = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          Chart: { getChart(id: string): { data: { datasets: { data: number[] }[] } } };
        }
      ).Chart;
      return chart.getChart('chart-retention').data.datasets.flatMap((d) => d.data);
    });
    const top = Math.max(...drawnNrr);
    expect(top).toBeGreaterThan(0);
    expect(axes.retention.min).toBe(0);
    expect(axes.retention.max).toBeGreaterThanOrEqual(Math.max(100, top));
    for (const rate of [axes.csat, axes.gap, axes.channels, axes.breachedFirstReply])
      expect(rate).toEqual({ min: 0, max: 100 });
    for (const count of [axes.drivers, axes.health, axes.clv]) expect(count.min).toBe(0);

    // The 360: health components on 0–100, monthly revenue from 0.
    await open(`customer.html?id=${await customerWith('PurchaseMade')}`);
    const c = await page.evaluate(() => {
      const { Chart } = globalThis as unknown as Win;
      return {
        components: Chart.getChart('chart-health-components')!.scales['x']!,
        revenue: Chart.getChart('chart-value-months')!.scales['y']!,
      };
    });
    expect({ min: c.components.min, max: c.components.max }).toEqual({ min: 0, max: 100 });
    expect(c.revenue.min).toBeLessThanOrEqual(0);
  });

  it('lists are filtered, sorted and paged by the server: one page of 20 per request, "next page" follows the cursor', async () => {
    const requests: Request[] = [];
    const onRequest = (r: Request) => {
      if (new URL(r.url()).pathname === '/v1/customers') requests.push(r);
    };
    page.on('request', onRequest);
    await open('');
    // One request per list, each for one page.
    expect(requests.length).toBe(LISTS.length);
    const pages = await Promise.all(
      requests.map(async (r) => {
        const url = new URL(r.url());
        const body = (await (await r.response())!.json()) as { items: ListItem[]; nextCursor?: string };
        return { params: url.searchParams, body };
      }),
    );
    for (const p of pages) {
      expect(p.params.get('limit')).toBe(String(PAGE_SIZE));
      expect(p.body.items.length).toBeLessThanOrEqual(PAGE_SIZE);
    }
    const total = Number((await text('#kpi-customers')).replaceAll(',', ''));
    expect(total).toBe(300);
    expect(pages.reduce((a, p) => a + p.body.items.length, 0)).toBeLessThan(total);
    // Filters reach the server: the at-risk list asks for high churn risk, the silent one for the threshold.
    const byList = new Map<string, (typeof pages)[number]>();
    for (const p of pages)
      byList.set(
        p.params.has('churnRisk')
          ? 'list-at-risk'
          : p.params.has('silentDays')
            ? 'list-silent'
            : 'list-renewals',
        p,
      );
    expect(byList.get('list-at-risk')!.params.get('churnRisk')).toBe('high');
    expect(byList.get('list-silent')!.params.get('silentDays')).toBe(
      String((await get<{ silentAfterDays: number }>('/v1/customers?limit=1')).silentAfterDays),
    );
    expect(byList.get('list-renewals')!.params.get('renewalWithinDays')).toBe('90');
    for (const id of LISTS) {
      const shown = await page.locator(`#${id} tbody a.customer-link`).allTextContents();
      expect(shown, id).toEqual(byList.get(id)!.body.items.map((i) => i.account.customer_id));
    }

    // "Next page" on the silent list (149 silent customers: 8 pages): the server's second page, by cursor.
    const silent = byList.get('list-silent')!;
    expect(silent.body.nextCursor).toBeDefined();
    requests.length = 0;
    await page.click('#list-silent-pager button.next');
    await expect.poll(() => requests.length).toBe(1);
    const next = new URL(requests[0]!.url()).searchParams;
    expect(next.get('cursor')).toBe(silent.body.nextCursor);
    expect(next.get('limit')).toBe(String(PAGE_SIZE));
    const second = await get<{ items: ListItem[] }>(
      `/v1/customers?${new URLSearchParams({ ...Object.fromEntries(silent.params), cursor: silent.body.nextCursor! }).toString()}`,
    );
    await expect
      .poll(() => page.locator('#list-silent tbody a.customer-link').allTextContents())
      .toEqual(second.items.map((i) => i.account.customer_id));
    expect(await text('#list-silent-pager .page')).toBe('page 2');
    // And back.
    await page.click('#list-silent-pager button.prev');
    await expect
      .poll(() => page.locator('#list-silent tbody a.customer-link').allTextContents())
      .toEqual(silent.body.items.map((i) => i.account.customer_id));
    expect(await page.locator('#list-silent-pager button.prev').isDisabled()).toBe(true);

    // A segment filter: one page per list again, with the segment sent to the server.
    requests.length = 0;
    await page.selectOption('#f-segment', 'B2B');
    await ready();
    expect(requests.length).toBe(LISTS.length);
    for (const r of requests) {
      const q = new URL(r.url()).searchParams;
      expect(q.get('segment')).toBe('B2B');
      expect(q.get('limit')).toBe(String(PAGE_SIZE));
    }
    page.off('request', onRequest);
  });

  it('tells the CLV fit apart: "fit from <date>", a failed refit since (and why), "no fit yet", "fit failed: why"', async () => {
    await open('');
    const fit = await get<{ fittedAt: string; window: { observationEnd: string }; currency: string }>(
      '/v1/clv/fit',
    );
    expect(await page.getAttribute('#clv-status', 'data-state')).toBe('fitted');
    expect(await text('#clv-status')).toMatch(
      new RegExp(
        `^Fit from ${fit.fittedAt.slice(0, 10)} \\(purchases up to ${fit.window.observationEnd}, ${fit.currency}, \\d+ customers\\)\\.$`,
      ),
    );
    // The schedule's latest refit failed: the previous fit is still shown, and the failure with it.
    ledger.status.set('clv-refit', {
      state: 'failed',
      at: '2026-01-02T03:04:00.000Z',
      error: 'NotConverged: BG/NBD did not converge',
    });
    await open('');
    expect(await page.getAttribute('#clv-status', 'data-state')).toBe('fitted');
    expect(await text('#clv-status')).toContain(
      'The latest refit failed at 2026-01-02 03:04: NotConverged: BG/NBD did not converge; this is the previous fit.',
    );
    ledger.status.set('clv-refit', { state: 'running' });

    // A ledger with no fit: "no fit yet", then "fit failed: why"; no empty CLV chart either way.
    const bare = await startSeededLedger({ customers: 20, seed: 7, fitClv: false });
    try {
      const other = await browser.newPage({ viewport: { width: 1440, height: 1000 }, locale: 'en-US' });
      await withReadKey(other, bare.readKey);
      const show = async () => {
        await other.goto(`${bare.url}/dashboard/`);
        await other.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
        expect(await other.evaluate(() => (globalThis as unknown as Win).Chart.getChart('chart-clv'))).toBe(
          undefined,
        );
        return {
          state: await other.getAttribute('#clv-status', 'data-state'),
          text: (await other.textContent('#clv-status'))?.trim(),
        };
      };
      expect(await show()).toEqual({
        state: 'none',
        text: 'No CLV fit yet: crm-ledger start fits at start and every 24 hours (or run crm-ledger clv fit).',
      });
      bare.status.set('clv-refit', {
        state: 'failed',
        at: '2026-01-01T00:00:05.000Z',
        error: 'NotConverged: the purchase history cannot support a fit',
      });
      expect(await show()).toEqual({
        state: 'failed',
        text: 'CLV fit failed at 2026-01-01 00:00: NotConverged: the purchase history cannot support a fit. No fit to show.',
      });
      await other.close();
    } finally {
      await bare.stop();
    }
    expect(pageErrors).toEqual([]);
  });
});
