// The customer 360 page: the four views side by side and the journey, live or "as of" a chosen date.
import { api, el, fmt, setState, setText, sumByCurrency, table, toMajor } from './api.js';
import { colour, countAxis, draw } from './charts.js';
import { customerHref, describeEvent, ticketHref } from './timeline.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const customerId = params.get('id') ?? '';
const TIMELINE = 500;

function facts(id, pairs) {
  $(id).replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? '–')]));
}

const pct = (n, d) => (d ? `${fmt.one((n / d) * 100)} %` : '–');

function renderService(s) {
  const c = s.customer ?? {};
  facts('service-facts', [
    ['tickets', fmt.int(c.tickets)],
    ['open', fmt.int(c.open_tickets)],
    [
      'SLA breaches (reply / resolution)',
      `${fmt.int(c.first_reply_breaches)} / ${fmt.int(c.resolution_breaches)}`,
    ],
    ['reopens · escalations', `${fmt.int(c.reopens)} · ${fmt.int(c.escalations)}`],
    ['last ticket', fmt.day(c.last_ticket_at)],
  ]);
  const tickets = [...s.tickets].sort((a, b) => (a.opened_at < b.opened_at ? 1 : -1));
  table(
    'service-tickets',
    [
      [
        'ticket',
        (t) => el('span', { id: ticketHref(t.ticket_id).slice(1), class: 'ticket-id' }, t.ticket_id),
      ],
      ['opened', (t) => fmt.day(t.opened_at)],
      ['channel', (t) => t.channel ?? '–'],
      ['category', (t) => t.category ?? '–'],
      ['priority', (t) => t.priority ?? '–'],
      ['status', (t) => t.status],
      ['reply (min)', (t) => fmt.int(t.first_reply_minutes), 'num'],
      [
        'SLA',
        (t) =>
          t.first_reply_breached === 1 || t.resolution_breached === 1
            ? 'breached'
            : t.resolution_breached === 0
              ? 'met'
              : '–',
      ],
    ],
    tickets,
    'No tickets.',
  );
}

function renderSuccess(s) {
  const a = s.account ?? {};
  const h = s.health;
  facts('success-facts', [
    ['health', h ? el('span', { class: `band ${h.band}`, id: 'health-score' }, h.score) : '–'],
    ['churn risk', s.churnRisk?.risk ?? '–'],
    ['days silent', s.daysSilent === null ? 'never active' : fmt.int(s.daysSilent)],
    ['onboarding', a.onboarding_progress_pct === undefined ? '–' : `${a.onboarding_progress_pct} %`],
    ['features adopted', fmt.int(a.features_adopted)],
    ['criteria achieved', `${fmt.int(a.criteria_achieved)} of ${fmt.int(a.criteria_defined)}`],
    [
      'subscription',
      `${a.subscription_status ?? '–'}${a.mrr_minor ? ` · MRR ${fmt.money(a.mrr_minor, a.mrr_currency)}` : ''}`,
    ],
    ['next renewal', fmt.day(a.next_renewal_date)],
  ]);
  const comps = h?.components ?? [];
  draw('chart-health-components', {
    type: 'bar',
    data: {
      labels: comps.map((c) => `${c.name} (${c.weight})`),
      datasets: [
        { label: 'score', data: comps.map((c) => c.score), backgroundColor: comps.map((_, i) => colour(i)) },
      ],
    },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100 } } },
  });
  setText('churn-reasons', (s.churnRisk?.reasons ?? []).map((r) => `${r.reason} (+${r.points})`).join(' · '));
}

function renderExperience(x) {
  const c = x.customer ?? {};
  facts('experience-facts', [
    ['interactions', fmt.int(c.interactions)],
    ['channels used', fmt.int(c.channels_used)],
    ['NPS', c.nps_responses ? `${fmt.one(c.nps)} (${c.nps_responses} answers)` : '–'],
    ['CSAT', c.csat_responses ? `${fmt.one(c.csat_pct)} % (${c.csat_responses})` : '–'],
    ['CES', c.ces_responses ? `${fmt.one(c.ces_avg)} (${c.ces_responses})` : '–'],
    ['mean sentiment', fmt.fixed(c.sentiment_avg, 2)],
    ['channel spread', fmt.one(c.channel_spread)],
  ]);
  table(
    'experience-channels',
    [
      ['channel', (r) => r.channel],
      ['interactions', (r) => fmt.int(r.interactions), 'num'],
      [
        'satisfaction',
        (r) => (r.satisfaction_n ? fmt.one(r.satisfaction_sum / r.satisfaction_n) : '–'),
        'num',
      ],
      ['effort', (r) => (r.effort_n ? fmt.one(r.effort_sum / r.effort_n) : '–'), 'num'],
    ],
    [...x.channels].sort((a, b) => b.interactions - a.interactions),
    'No channel activity.',
  );
}

/** The customer's row of the latest CLV fit (`clv` of the 360; live views only). */
function clvOf(data) {
  const c = data.clv;
  if (c === null || c === undefined)
    return data.source === 'folded' ? 'live views only' : 'not scored (no fit, or no purchase in its window)';
  const alive = typeof c.p_alive === 'number' ? ` · P(alive) ${Math.round(c.p_alive * 100)}%` : '';
  return `${fmt.one(c.clv)} over ${c.clv_months} months${alive}`;
}

/** The per-currency rows of the 360 (value_currencies) as currency -> minor units of one column. */
const byCurrency = (rows, column) =>
  sumByCurrency((rows ?? []).map((r) => ({ minor: r[column], currency: r.currency })));

function renderValue(data) {
  const v = data.value;
  const c = v.customer ?? {};
  facts('value-facts', [
    // Every currency the customer paid in, each in its own decimals (value_currencies), never one total.
    ['net revenue', fmt.moneys(byCurrency(v.currencies, 'net_revenue_minor'))],
    ['orders', fmt.int((v.currencies ?? []).reduce((a, r) => a + r.orders, 0))],
    ['refunds', fmt.moneys(byCurrency(v.currencies, 'refunds_minor'))],
    [
      'MRR · ARR',
      `${fmt.moneys(byCurrency(v.currencies, 'mrr_minor'))} · ${fmt.moneys(byCurrency(v.currencies, 'arr_minor'))}`,
    ],
    ['tenure', v.tenureDays === null ? '–' : `${fmt.int(v.tenureDays)} days`],
    ['last purchase', fmt.day(c.last_purchase_at)],
    ['CLV', clvOf(data)],
  ]);
  // One series per currency, in major units of that currency (never stacked into one total).
  const labels = [...new Set(v.months.map((m) => m.month))].sort();
  const currencies = [...new Set(v.months.map((m) => m.currency))].sort();
  draw(
    'chart-value-months',
    {
      type: 'bar',
      data: {
        labels,
        datasets: currencies.map((cur, i) => ({
          label: `net revenue (${cur})`,
          data: labels.map((month) => {
            const m = v.months.find((r) => r.month === month && r.currency === cur);
            return m === undefined ? null : toMajor(m.gross_minor - m.refunds_minor, cur);
          }),
          backgroundColor: i === 0 ? '#16a34a' : colour(i),
        })),
      },
      options: {
        plugins: { legend: { display: currencies.length > 1 } },
        scales: { y: { beginAtZero: true, title: { display: true, text: currencies.join(' · ') } } },
      },
    },
    { emptyText: 'No purchases.' },
  );
}

const channelOf = (e) => (typeof e.data.channel === 'string' ? e.data.channel : '(no channel)');

function renderTimeline(entries) {
  setText('timeline-count', `${entries.length} events`);
  const channels = [...new Set(entries.map(channelOf))].sort();
  const types = [...new Set(entries.map((e) => e.type))].sort();
  draw(
    'chart-journey',
    {
      type: 'scatter',
      data: {
        datasets: types.map((t, i) => ({
          label: t,
          data: entries
            .filter((e) => e.type === t)
            .map((e) => ({ x: Date.parse(e.occurredAt), y: channels.indexOf(channelOf(e)) })),
          backgroundColor: colour(i),
          pointRadius: 3,
        })),
      },
      options: {
        plugins: {
          legend: { position: 'right' },
          tooltip: {
            callbacks: {
              label: (c) =>
                `${c.dataset.label} · ${new Date(c.parsed.x).toISOString().slice(0, 10)} · ${channels[c.parsed.y]}`,
            },
          },
        },
        scales: {
          x: { type: 'linear', ticks: { callback: (v) => new Date(v).toISOString().slice(0, 10) } },
          y: {
            min: -0.5,
            max: channels.length - 0.5,
            afterBuildTicks: (axis) => {
              axis.ticks = channels.map((_, i) => ({ value: i }));
            },
            ticks: { callback: (v) => channels[v] ?? '' },
          },
        },
      },
    },
    { emptyText: 'No events.' },
  );
  const t = $('timeline');
  t.replaceChildren(
    el('thead', {}, el('tr', {}, el('th', {}, 'when'), el('th', {}, 'what happened'))),
    el(
      'tbody',
      {},
      ...(entries.length === 0
        ? [el('tr', {}, el('td', { colspan: 2, class: 'empty' }, 'No events.'))]
        : entries.map((e) =>
            el(
              'tr',
              { 'data-type': e.type, title: e.type },
              el('td', {}, fmt.when(e.occurredAt)),
              el(
                'td',
                { class: 'wrap' },
                ...describeEvent(e, customerId).map((p) =>
                  typeof p === 'string' ? p : el('a', { href: p.href }, p.text),
                ),
              ),
            ),
          )),
    ),
  );
}

/** An unknown customer (or none of its events up to the chosen day): a sentence instead of empty panels. */
function notFound(day) {
  document.body.dataset.found = 'no';
  setText('source', '');
  $('not-found').replaceChildren(
    ...(day
      ? ['No events of ', el('code', {}, customerId), ` in the ledger up to ${day}.`]
      : ['No customer ', el('code', {}, customerId), ' in the ledger.']),
  );
}

async function load() {
  setState('loading', 'loading…');
  const day = $('asof').value;
  const data = await api(`/v1/customers/${encodeURIComponent(customerId)}`, {
    asOf: day || undefined, // a date: the end of that day, UTC
    timeline: TIMELINE,
  });
  if (data === null) {
    notFound(day);
    setState('not-found', '');
    return;
  }
  delete document.body.dataset.found;
  setText(
    'source',
    data.source === 'live' ? 'live views' : `folded from the stream up to ${fmt.day(data.asOf)}`,
  );
  renderService(data.service);
  renderSuccess(data.success);
  renderExperience(data.experience);
  renderValue(data);
  renderTimeline(data.timeline);
  // A view that holds this customer (applying one of its events threw) shows stale rows: say so.
  const stale = data.stale ?? [];
  for (const v of ['service', 'success', 'experience', 'value'])
    $(`view-${v}`).classList.toggle(
      'stale',
      stale.some((s) => s.view === v),
    );
  setState(
    'ready',
    stale.length === 0
      ? ''
      : `Stale: the ${stale.map((s) => s.view).join(', ')} view(s) hold this customer since event ${stale[0].eventId} (position ${stale[0].position}): their rows are at the last good state (crm-ledger held).`,
  );
}

function setAsOf(day) {
  $('asof').value = day;
  const url = new URL(location.href);
  if (day) url.searchParams.set('asOf', day);
  else url.searchParams.delete('asOf');
  history.replaceState(null, '', url);
  void load().catch((e) => setState('error', `Could not load: ${e.message}`));
}

$('customer-id').replaceChildren(el('a', { href: customerHref(customerId) }, customerId));
document.title = `crm-ledger · ${customerId}`;
$('asof').value = params.get('asOf') ?? '';
$('asof').addEventListener('change', () => setAsOf($('asof').value));
$('asof-now').addEventListener('click', () => setAsOf(''));
void load().catch((e) => setState('error', `Could not load: ${e.message}`));
