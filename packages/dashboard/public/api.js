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

/** Every account of GET /v1/customers (following nextCursor), with health and churn risk. */
export async function allCustomers(params) {
  const items = [];
  let cursor;
  for (let page = 0; page < 200; page++) {
    const body = await api('/v1/customers', { ...params, limit: 500, cursor });
    items.push(...body.items);
    cursor = body.nextCursor;
    if (cursor === undefined) break;
  }
  return items;
}

// Formatting and DOM helpers (text only: nothing from the API is parsed as HTML).
export const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US')),
  one: (n) => (n === null || n === undefined ? '–' : (Math.round(n * 10) / 10).toLocaleString('en-US')),
  money: (minor) =>
    minor === null || minor === undefined
      ? '–'
      : (minor / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  day: (iso) => (iso ? String(iso).slice(0, 10) : '–'),
  when: (iso) => (iso ? String(iso).slice(0, 16).replace('T', ' ') : '–'),
};

/** `el('td', { class: 'x' }, 'text', childNode...)` */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

/** Fills a <table> body: `columns` are [header, row => cell]. */
export function table(tableId, columns, rows, emptyText = 'none') {
  const t = document.getElementById(tableId);
  t.replaceChildren(
    el('thead', {}, el('tr', {}, ...columns.map(([h]) => el('th', {}, h)))),
    el(
      'tbody',
      {},
      ...(rows.length === 0
        ? [el('tr', {}, el('td', { colspan: columns.length, class: 'empty' }, emptyText))]
        : rows.map((r) => el('tr', {}, ...columns.map(([, f]) => el('td', {}, f(r)))))),
    ),
  );
}

export function setText(id, text) {
  document.getElementById(id).textContent = text;
}

/** The page's state for humans and tests: `loading`, `ready` or `error` on <body data-state>. */
export function setState(state, message = '') {
  document.body.dataset.state = state;
  const status = document.getElementById('status');
  if (status) status.textContent = message;
}
