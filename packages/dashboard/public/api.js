// The query API client of the dashboard pages: one read-scoped API key per browser tab (sessionStorage),
// sent as `Authorization: Bearer`; a 401/403 asks for the key again.
const KEY = 'crm-ledger.readKey';

/** Asks for the key in the page's <dialog id="key-dialog"> and resolves with it. */
function askForKey(message) {
  const dialog = document.getElementById('key-dialog');
  const form = document.getElementById('key-form');
  const input = document.getElementById('api-key');
  document.getElementById('key-message').textContent = message;
  input.value = '';
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve) => {
    form.addEventListener(
      'submit',
      (e) => {
        e.preventDefault();
        const key = input.value.trim();
        sessionStorage.setItem(KEY, key);
        dialog.close();
        resolve(key);
      },
      { once: true },
    );
  });
}

export async function apiKey() {
  return sessionStorage.getItem(KEY) ?? askForKey('Paste an API key with the read scope (crml_...).');
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/** GET a query API path with query parameters (undefined/empty ones left out); null on 404. */
export async function api(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const url = qs.size === 0 ? path : `${path}?${qs}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const key = await apiKey();
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } });
    if (res.status === 401 || res.status === 403) {
      forgetKey();
      await askForKey(`The key was refused (${res.status}): it needs the read scope. Try another key.`);
      continue;
    }
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }
  throw new Error('no accepted API key');
}

// Formatting and DOM helpers (text only: nothing from the API is parsed as HTML).
/**
 * ISO 4217 exponents (digits of the minor unit) that are not 2: the same table as `minorUnitDigits` of
 * @crm-ledger/events (plugin.unit.spec.ts checks that they agree for every currency of the catalogue).
 */
export const MINOR_DIGITS = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
};
export const minorDigits = (currency) => MINOR_DIGITS[currency] ?? 2;
/** Minor units as a number of major units of `currency` (for charts: 1234 USD -> 12.34, 1234 JPY -> 1234). */
export const toMajor = (minor, currency) => minor / 10 ** minorDigits(currency);

/**
 * Sums amounts per currency, never across: `[{currency, minor}]` -> Map currency -> minor. Rows without a
 * currency are counted under '?' (shown as such, never added to a currency).
 */
export function sumByCurrency(rows) {
  const out = new Map();
  for (const r of rows) {
    if (!r.minor) continue;
    const c = r.currency ?? '?';
    out.set(c, (out.get(c) ?? 0) + r.minor);
  }
  return out;
}

/** The reader's locale (the browser's language; en-US outside a browser): digits grouped and pointed their way. */
export const LOCALE = globalThis.navigator?.language ?? 'en-US';

export const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString(LOCALE)),
  one: (n) => (n === null || n === undefined ? '–' : (Math.round(n * 10) / 10).toLocaleString(LOCALE)),
  /** A number with exactly `d` decimals in the reader's locale. */
  fixed: (n, d) =>
    n === null || n === undefined
      ? '–'
      : n.toLocaleString(LOCALE, { minimumFractionDigits: d, maximumFractionDigits: d }),
  /** An amount in minor units with its currency: the currency's own decimals (JPY 0, USD 2, BHD 3). */
  money: (minor, currency) => {
    if (minor === null || minor === undefined) return '–';
    if (currency === null || currency === undefined || currency === '?')
      return `${fmt.int(minor)} (minor units, currency unknown)`;
    const d = minorDigits(currency);
    return `${fmt.fixed(toMajor(minor, currency), d)} ${currency}`;
  },
  /** Per-currency sums, one after the other: "1,234.50 EUR · 5,000 JPY" (never one total). */
  moneys: (byCurrency) =>
    byCurrency.size === 0
      ? '–'
      : [...byCurrency.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([c, m]) => fmt.money(m, c))
          .join(' · '),
  day: (iso) => (iso ? String(iso).slice(0, 10) : '–'),
  when: (iso) => (iso ? String(iso).slice(0, 16).replace('T', ' ') : '–'),
};

/**
 * What a converted figure says about its conversion (GET /v1/aggregates/* `conversion`): the reporting currency,
 * every rate used (pair, rate, the date it was recorded for) and every amount that had no rate at its date.
 */
export function conversionText(conv) {
  const rates =
    conv.rates.length === 0
      ? 'no rate used'
      : conv.rates.map((r) => `1 ${r.base} = ${r.rate} ${r.quote} (${r.date})`).join(', ');
  const missing = conv.unconverted.map((u) => `${u.currency} on ${u.date}`).join(', ');
  return (
    `Converted into ${conv.currency}, each amount at the rate of its date: ${rates}.` +
    (missing === '' ? '' : ` No rate for ${missing}: those figures are not shown.`)
  );
}

/**
 * The renewals tile's MRR (GET /v1/aggregates/accounts `renewals`): per currency, never one total of minor units
 * of different currencies; with a reporting currency, the converted sum first (or "not convertible").
 */
export function renewalsMrrText(renewals) {
  const perCurrency = fmt.moneys(new Map(renewals.mrr.map((m) => [m.currency ?? '?', m.minor])));
  const c = renewals.converted;
  if (c === undefined) return `MRR ${perCurrency}`;
  const converted =
    c.minor === null
      ? `not convertible into ${c.conversion.currency}`
      : fmt.money(c.minor, c.conversion.currency);
  return `MRR ${converted} (${perCurrency})`;
}

/** `el('td', { class: 'x' }, 'text', childNode...)` */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

/**
 * Fills a <table>: `columns` are [header, row => cell, kind?], kind `num` (numbers and money: right-aligned)
 * or `wrap` (long text: wraps instead of widening the table). The first column stays in view when the table
 * scrolls sideways (app.css). With no rows, one cell says `emptyText`.
 */
export function table(tableId, columns, rows, emptyText = 'Nothing to show.') {
  const t = document.getElementById(tableId);
  const cls = (kind) => kind ?? undefined;
  t.replaceChildren(
    el('thead', {}, el('tr', {}, ...columns.map(([h, , kind]) => el('th', { class: cls(kind) }, h)))),
    el(
      'tbody',
      {},
      ...(rows.length === 0
        ? [el('tr', {}, el('td', { colspan: columns.length, class: 'empty' }, emptyText))]
        : rows.map((r) =>
            el('tr', {}, ...columns.map(([, f, kind]) => el('td', { class: cls(kind) }, f(r)))),
          )),
    ),
  );
}

/**
 * One paged list of GET /v1/customers: the server filters and sorts, `limit` rows a page; "next page"
 * follows the server's nextCursor, "previous page" goes back to a cursor already seen.
 * `render(items)` fills the table; `#<id>-pager` holds the buttons and the page number.
 */
export class CustomerPager {
  /** `path`: the list route paged (GET /v1/customers by default; GET /v1/signals pages the same way). */
  constructor(id, limit, render, path = '/v1/customers') {
    this.id = id;
    this.path = path;
    this.limit = limit;
    this.render = render;
    this.params = {};
    this.cursors = [undefined];
    this.page = 0;
    this.next = undefined;
    const pager = document.getElementById(`${id}-pager`);
    this.prevButton = el('button', { type: 'button', class: 'prev' }, '← previous page');
    this.nextButton = el('button', { type: 'button', class: 'next' }, 'next page →');
    this.label = el('span', { class: 'page' });
    pager.replaceChildren(this.prevButton, this.label, this.nextButton);
    this.prevButton.addEventListener('click', () => void this.go(this.page - 1).catch(showError));
    this.nextButton.addEventListener('click', () => void this.go(this.page + 1).catch(showError));
  }

  /** New filters: back to the first page. */
  async reset(params) {
    this.params = params;
    this.cursors = [undefined];
    return this.go(0);
  }

  async go(page) {
    if (page > 0 && this.cursors[page] === undefined) return undefined;
    // Only the latest request draws (a filter changed again while a page was on its way).
    const mine = (this.seq = (this.seq ?? 0) + 1);
    const body = await api(this.path, {
      ...this.params,
      limit: this.limit,
      cursor: this.cursors[page],
    });
    if (mine !== this.seq) return body;
    this.page = page;
    this.cursors[page + 1] = body.nextCursor;
    this.render(body.items, page * this.limit);
    this.prevButton.disabled = page === 0;
    this.nextButton.disabled = body.nextCursor === undefined;
    this.label.textContent = body.items.length === 0 ? '' : `page ${page + 1}`;
    return body;
  }
}

const showError = (error) => setState('error', `Could not load: ${error.message}`);

export function setText(id, text) {
  document.getElementById(id).textContent = text;
}

/** The page's state for humans and tests: `loading`, `ready` or `error` on <body data-state>. */
export function setState(state, message = '') {
  document.body.dataset.state = state;
  const status = document.getElementById('status');
  if (status) status.textContent = message;
}
