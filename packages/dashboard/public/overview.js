// The overview page: every panel re-queries the API when a filter changes and redraws.
import {
  api,
  conversionText,
  CustomerPager,
  el,
  fmt,
  forgetKey,
  renewalsMrrText,
  setState,
  setText,
  table,
} from './api.js';
import { BAND_COLOURS, colour, countAxis, draw, percentAxis } from './charts.js';

const $ = (id) => document.getElementById(id);
const RENEWAL_DAYS = 90;
/** Rows per page of the customer lists (each page is one request: the server filters, sorts and pages). */
export const PAGE_SIZE = 20;

function filters() {
  const from = $('f-from').value;
  const to = $('f-to').value;
  const asOfDay = $('f-asof').value;
  return {
    segment: $('f-segment').value || undefined,
    channel: $('f-channel').value || undefined,
    // The API's windows: from inclusive, to exclusive; a month picker's "to" includes that month.
    from: from ? `${from}-01` : undefined,
    to: to ? nextMonthStart(to) : undefined,
    // A date is a cut at the end of that day (UTC), as everywhere in the API: business time ...
    asOf: asOfDay || undefined,
    // ... and ledger time (what the ledger knew by the end of that day), alone or together
    asKnownAt: $('f-known').value || undefined,
    // A reporting currency: money converted with the exchange rates recorded in the ledger.
    currency: $('f-currency').value || undefined,
  };
}

function nextMonthStart(month) {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

const customerLink = (id) =>
  el('a', { href: `customer.html?id=${encodeURIComponent(id)}`, class: 'customer-link' }, id);

/** NPS of summed survey cells, one decimal (as the API rounds). */
export function npsOf(rows) {
  const r = rows.reduce((a, x) => a + x.responses, 0);
  const p = rows.reduce((a, x) => a + x.promoters, 0);
  const d = rows.reduce((a, x) => a + x.detractors, 0);
  return { responses: r, nps: r === 0 ? null : Math.round(((p - d) / r) * 1000) / 10 };
}

const TRENDS = {
  NPS: { canvas: 'chart-trend-nps', axis: 'NPS', min: -100, max: 100 },
  CSAT: { canvas: 'chart-trend-csat', axis: '% satisfied', min: 0, max: 100 },
  CES: { canvas: 'chart-trend-ces', axis: 'mean effort score', min: 1, max: 7 },
};

/**
 * One line chart per metric (NPS, CSAT, CES) over the periods of GET /v1/aggregates/experience-trend: a line
 * per channel, and a bold line for all channels of the slice (its `totals`) when no channel is picked.
 */
function drawTrends(body, channel) {
  for (const [metric, t] of Object.entries(TRENDS)) {
    const rows = body.rows.filter((r) => r.metric === metric);
    const totals = body.totals.filter((r) => r.metric === metric);
    const periods = [...new Set(totals.map((r) => r.period))].sort();
    const channels = [...new Set(rows.map((r) => r.channel))].sort();
    const series = (list) => {
      const byPeriod = new Map(list.map((r) => [r.period, r.value]));
      return periods.map((p) => byPeriod.get(p) ?? null);
    };
    draw(t.canvas, {
      type: 'line',
      data: {
        labels: periods,
        datasets: [
          ...(channel
            ? []
            : [
                {
                  label: 'all channels',
                  data: series(totals),
                  borderColor: '#111827',
                  backgroundColor: '#111827',
                  borderWidth: 3,
                  pointRadius: 0,
                  tension: 0.3,
                  spanGaps: true,
                },
              ]),
          ...channels.map((c, i) => ({
            label: c,
            data: series(rows.filter((r) => r.channel === c)),
            borderColor: colour(i),
            backgroundColor: colour(i),
            borderWidth: channel ? 3 : 1,
            pointRadius: 1.5,
            spanGaps: true,
            tension: 0.3,
          })),
        ],
      },
      options: {
        scales: { y: { min: t.min, max: t.max, title: { display: true, text: t.axis } } },
        plugins: { legend: { labels: { boxWidth: 10 } } },
      },
    });
  }
  const overall = npsOf(body.totals.filter((r) => r.metric === 'NPS'));
  setText('kpi-nps', fmt.one(overall.nps));
  setText('kpi-nps-sub', `${fmt.int(overall.responses)} answers${channel ? ` · ${channel}` : ''}`);
}

function drawChannels(body, channel) {
  const rows = body.channels.filter((c) => c.mean_satisfaction !== null);
  draw('chart-channels', {
    type: 'bar',
    data: {
      labels: rows.map((c) => c.channel),
      datasets: [
        {
          label: 'mean satisfaction',
          data: rows.map((c) => Math.round(c.mean_satisfaction * 10) / 10),
          backgroundColor: rows.map((c) => (!channel || c.channel === channel ? '#2563eb' : '#cbd5e1')),
        },
      ],
    },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100 } } },
  });
  setText('channels-note', `Spread between the best and worst channel: ${fmt.one(body.spread)} points.`);
}

function drawDrivers(rows) {
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const totals = new Map();
  for (const r of rows) totals.set(r.category, (totals.get(r.category) ?? 0) + r.tickets);
  const top = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 7)
    .map(([c]) => c);
  const cell = (m, pred) =>
    rows.filter((r) => r.month === m && pred(r.category)).reduce((a, r) => a + r.tickets, 0);
  const datasets = top.map((c, i) => ({
    label: c,
    data: months.map((m) => cell(m, (x) => x === c)),
    backgroundColor: colour(i),
  }));
  if (totals.size > top.length)
    datasets.push({
      label: 'other',
      data: months.map((m) => cell(m, (x) => !top.includes(x))),
      backgroundColor: '#94a3b8',
    });
  const tickets = rows.reduce((a, r) => a + r.tickets, 0);
  setText('kpi-tickets', fmt.int(tickets));
  setText('kpi-tickets-sub', top.length > 0 ? `top driver: ${top[0]}` : '');
  draw('chart-drivers', {
    type: 'bar',
    data: { labels: months, datasets },
    options: {
      scales: { x: { stacked: true }, y: countAxis('tickets', { stacked: true }) },
    },
  });
}

const PRIORITIES = ['urgent', 'high', 'normal', 'low'];

/**
 * First reply and resolution per priority: p50 / p90 / p99 bars, the SLA target of the priority (from the
 * policy its tickets were opened with) as a reference mark, and the breach rate on the right axis.
 */
function drawService(rows) {
  rows = rows
    .filter((r) => PRIORITIES.includes(r.priority))
    .sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority));
  const labels = rows.map((r) => `${r.priority} (${r.tickets})`);
  const scaled = (v, scale) => (v === null || v === undefined ? null : Math.round((v / scale) * 10) / 10);
  const config = (p, scale, unit) => ({
    type: 'bar',
    data: {
      labels,
      datasets: [
        ...[
          ['p50', '#bfdbfe'],
          ['p90', '#60a5fa'],
          ['p99', '#1d4ed8'],
        ].map(([q, c]) => ({
          label: `${q} (${unit})`,
          data: rows.map((r) => scaled(r[`${p}_${q}`], scale)),
          backgroundColor: c,
          yAxisID: 'y',
          order: 2,
        })),
        {
          type: 'line',
          label: `SLA target (${unit})`,
          data: rows.map((r) => scaled(r[`${p}_sla_minutes`], scale)),
          borderColor: '#111827',
          backgroundColor: '#111827',
          showLine: false,
          pointStyle: 'line',
          pointRadius: 22,
          pointBorderWidth: 3,
          pointHoverRadius: 22,
          yAxisID: 'y',
          order: 0,
        },
        {
          type: 'line',
          label: 'SLA breached (%)',
          data: rows.map((r) => r[`${p}_breach_pct`]),
          borderColor: '#dc2626',
          backgroundColor: '#dc2626',
          yAxisID: 'pct',
          order: 1,
        },
      ],
    },
    options: {
      plugins: { legend: { labels: { boxWidth: 10 } } },
      scales: {
        y: { type: 'logarithmic', title: { display: true, text: `${unit} (log scale)` } },
        pct: {
          position: 'right',
          min: 0,
          max: 100,
          grid: { drawOnChartArea: false },
          title: { display: true, text: '% breached' },
        },
      },
    },
  });
  draw('chart-first-reply', config('first_reply', 1, 'minutes'));
  draw('chart-resolution', config('resolution', 60, 'hours'));
}

function drawGap(rows) {
  draw('chart-gap', {
    type: 'bar',
    data: {
      labels: rows.map((r) => `SLA ${r.sla} (${r.scored_tickets} scored)`),
      datasets: [
        {
          label: 'satisfied (%)',
          data: rows.map((r) => r.satisfied_pct),
          backgroundColor: rows.map((r) =>
            r.sla === 'met' ? '#16a34a' : r.sla === 'breached' ? '#dc2626' : '#94a3b8',
          ),
        },
      ],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { y: { min: 0, max: 100, title: { display: true, text: '% satisfied' } } },
    },
  });
}

const band = (i) => el('span', { class: `band ${i.health.band}` }, i.health.score);

/** KPIs and the health histogram from GET /v1/aggregates/accounts (counted by the server, not the browser). */
function drawSummary(sum) {
  setText('kpi-customers', fmt.int(sum.customers));
  const b = sum.bands;
  setText(
    'kpi-customers-sub',
    `${fmt.int(b.green)} green · ${fmt.int(b.yellow)} yellow · ${fmt.int(b.red)} red`,
  );
  const bins = sum.healthBins.map((x) => `${x.from}–${x.from === 90 ? 100 : x.from + 9}`);
  draw(
    'chart-health',
    {
      type: 'bar',
      data: {
        labels: bins,
        datasets: ['red', 'yellow', 'green'].map((name) => ({
          label: name,
          data: sum.healthBins.map((x) => x[name]),
          backgroundColor: BAND_COLOURS[name],
        })),
      },
      options: {
        scales: {
          x: { stacked: true, title: { display: true, text: 'health score' } },
          y: countAxis('customers', { stacked: true }),
        },
      },
    },
    { empty: sum.customers === 0, emptyText: 'No customers for these filters.' },
  );
  setText('kpi-at-risk', fmt.int(sum.churnRisk.high));
  setText('kpi-silent', fmt.int(sum.silent));
  for (const id of ['silent-days', 'silent-days-list']) setText(id, fmt.int(sum.silentAfterDays));
  setText('kpi-renewals', fmt.int(sum.renewals.customers));
  // MRR per currency (minor units of two currencies are never added); converted with its rates when asked.
  setText('kpi-renewals-sub', renewalsMrrText(sum.renewals));
  setText(
    'kpi-renewals-note',
    sum.renewals.converted ? conversionText(sum.renewals.converted.conversion) : '',
  );
}

const days = (i) => i.health.daysSinceLastInteraction;
const pagers = {
  atRisk: new CustomerPager('list-at-risk', PAGE_SIZE, (items) =>
    table(
      'list-at-risk',
      [
        ['customer', (i) => customerLink(i.account.customer_id)],
        ['segment', (i) => i.account.segment ?? '–'],
        ['health', band, 'num'],
        ['why', (i) => i.churnRisk.reasons.map((r) => r.reason).join('; '), 'wrap'],
      ],
      items,
      'No customer at high churn risk.',
    ),
  ),
  silent: new CustomerPager('list-silent', PAGE_SIZE, (items) =>
    table(
      'list-silent',
      [
        ['customer', (i) => customerLink(i.account.customer_id)],
        ['silent (days)', (i) => (days(i) === null ? 'never active' : fmt.int(days(i))), 'num'],
        ['last interaction', (i) => fmt.day(i.account.last_interaction_at)],
        ['health', band, 'num'],
      ],
      items,
      'No silent customer.',
    ),
  ),
  renewals: new CustomerPager('list-renewals', PAGE_SIZE, (items) =>
    table(
      'list-renewals',
      [
        ['customer', (i) => customerLink(i.account.customer_id)],
        ['renews', (i) => fmt.day(i.account.next_renewal_date)],
        ['MRR', (i) => fmt.money(i.account.mrr_minor, i.account.mrr_currency), 'num'],
        ['health', band, 'num'],
        ['churn risk', (i) => i.churnRisk.risk],
      ],
      items,
      `No renewal in the next ${RENEWAL_DAYS} days.`,
    ),
  ),
};

/** A signal's age at the cut (the end of the as-of day, or now): whole days, or hours under a day. */
export function signalAge(raisedAt, asOfDay, now = Date.now()) {
  const at = asOfDay ? Date.parse(`${asOfDay}T23:59:59.999Z`) : now;
  const hours = Math.max(0, Math.floor((at - Date.parse(raisedAt)) / 3_600_000));
  return hours < 24 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}

/** Signal types in words for the "to act on" list (the event type is the title). */
const SIGNAL_WORDS = {
  HealthBandChanged: 'health band changed',
  CustomerWentSilent: 'went silent',
  RenewalApproaching: 'renewal approaching',
  TicketSlaBreached: 'ticket SLA breached',
  DetractorAnswered: 'detractor answered',
  SuccessCriterionOverdue: 'success criterion overdue',
  ChurnRiskRose: 'churn risk rose',
  ExpansionSuggested: 'expansion suggested',
};
const signalType = (type) => el('span', { title: type, 'data-type': type }, SIGNAL_WORDS[type] ?? type);

/** The open signals (GET /v1/signals?status=open), newest first: the team's "to act on" list (issue #16). */
const signalsPager = new CustomerPager(
  'list-signals',
  PAGE_SIZE,
  (items) =>
    table(
      'list-signals',
      [
        ['signal', (s) => signalType(s.type)],
        ['customer', (s) => customerLink(s.customerId)],
        ['raised', (s) => fmt.day(s.raisedAt)],
        ['age', (s) => signalAge(s.raisedAt, filters().asOf), 'num'],
      ],
      items,
      'No open signal: nothing to act on.',
    ),
  '/v1/signals',
);

/** The signal follow-up per type (GET /v1/aggregates/accounts `signals`): raised, open, acted, share, median. */
function drawFollowUp(signals) {
  const rows = signals === undefined ? [] : [...signals.byType, { type: 'all', ...signals.total }];
  const minutes = (m) => (m === null ? '–' : m < 120 ? `${fmt.int(m)} min` : `${fmt.fixed(m / 60, 1)} h`);
  table(
    'list-signal-followup',
    [
      ['signal', (r) => (r.type === 'all' ? 'all signals' : signalType(r.type))],
      ['raised', (r) => fmt.int(r.count), 'num'],
      ['open', (r) => fmt.int(r.open), 'num'],
      ['acted', (r) => fmt.int(r.acted), 'num'],
      ['dismissed', (r) => fmt.int(r.dismissed), 'num'],
      ['acted on', (r) => (r.actedSharePct === null ? '–' : `${fmt.fixed(r.actedSharePct, 1)} %`), 'num'],
      ['median time to action', (r) => minutes(r.medianMinutesToAction), 'num'],
    ],
    signals === undefined || signals.total.count === 0 ? [] : rows,
    'No signal raised yet.',
  );
}

/** The lists, first page each, with the filters applied by the server. */
function loadLists(f, silentAfterDays) {
  const common = { segment: f.segment, asOf: f.asOf, asKnownAt: f.asKnownAt };
  return Promise.all([
    signalsPager.reset({ ...common, status: 'open' }),
    pagers.atRisk.reset({ ...common, churnRisk: 'high', sort: 'health_score' }),
    pagers.silent.reset({ ...common, silentDays: silentAfterDays, sort: 'days_silent', direction: 'desc' }),
    pagers.renewals.reset({ ...common, renewalWithinDays: RENEWAL_DAYS, sort: 'next_renewal_date' }),
  ]);
}

function drawRetention(body, f) {
  // Cohorts are per currency (NRR is a ratio within one currency); converted cohorts when a reporting currency is set.
  const cohorts = (body.converted?.mrr ?? body.mrr).filter(
    (c) => (!f.from || c.cohort >= f.from.slice(0, 7)) && (!f.to || c.cohort < f.to.slice(0, 7)),
  );
  // The eight largest cohorts of the period, in time order.
  const shown = [...cohorts]
    .sort((a, b) => b.customers - a.customers)
    .slice(0, 8)
    .sort((a, b) => (a.cohort < b.cohort ? -1 : 1));
  const offsets = Math.max(0, ...shown.map((c) => c.months.length));
  const conv = body.converted?.conversion;
  setText(
    'retention-note',
    conv === undefined
      ? 'Cohorts per currency (amounts of two currencies are never added).'
      : conversionText(conv),
  );
  draw(
    'chart-retention',
    {
      type: 'line',
      data: {
        labels: Array.from({ length: offsets }, (_, k) => `+${k} m`),
        datasets: shown.map((c, i) => ({
          label: `${c.cohort} ${c.currency} (${c.customers})`,
          data: c.months.map((m) => m.nrrPct),
          borderColor: colour(i),
          backgroundColor: colour(i),
          pointRadius: 1.5,
        })),
      },
      options: {
        scales: {
          y: percentAxis(
            shown.flatMap((c) => c.months.map((m) => m.nrrPct)),
            'NRR %',
          ),
        },
      },
    },
    { emptyText: 'No cohort in this period.' },
  );
}

function drawPainPoints(rows) {
  table(
    'list-pain-points',
    [
      ['touchpoint', (r) => r.touchpoint],
      ['interactions', (r) => fmt.int(r.interactions), 'num'],
      ['mean sentiment', (r) => fmt.fixed(r.mean_sentiment, 2), 'num'],
      ['mean effort (1–7)', (r) => fmt.fixed(r.mean_effort, 1), 'num'],
    ],
    rows,
    'No touchpoint interactions yet.',
  );
}

/**
 * The CLV fit's status in words (GET /v1/clv/status): no fit yet, the fit failed and why, or the date of the
 * fit the numbers come from (and a failed refit since, when the previous fit is still shown).
 */
export function clvStatusText(status) {
  const failure = (r) => `${r.state === 'retrying' ? 'retrying since' : 'at'} ${fmt.when(r.at)}: ${r.error}`;
  if (status.state === 'none')
    return 'No CLV fit yet: crm-ledger start fits at start and every 24 hours (or run crm-ledger clv fit).';
  if (status.state === 'failed') return `CLV fit failed ${failure(status.refit)}. No fit to show.`;
  const f = status.fit;
  return (
    `Fit from ${fmt.day(f.fittedAt)} (purchases up to ${fmt.day(f.observationEnd)}, ${f.currency}, ${fmt.int(f.customers)} customers)` +
    (status.refit === null
      ? '.'
      : `. The latest refit failed ${failure(status.refit)}; this is the previous fit.`)
  );
}

/** CLV: p10 / p50 / p90 per segment of the latest fit (GET /v1/aggregates/clv answers 404 before any fit). */
function drawClv(body, status) {
  const rows = body === null ? [] : body.rows;
  const statusEl = $('clv-status');
  statusEl.dataset.state = status.state;
  statusEl.textContent = clvStatusText(status);
  $('panel-clv').classList.toggle('placeholder', rows.length === 0);
  setText(
    'clv-note',
    body === null
      ? ''
      : rows.length === 0
        ? 'No customer scored by the latest fit.'
        : `${fmt.int(rows.reduce((a, r) => a + r.customers, 0))} customers scored · ${body.currency}`,
  );
  draw(
    'chart-clv',
    {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.segment),
        datasets: ['p10', 'p50', 'p90'].map((q, i) => ({
          label: q,
          data: rows.map((r) => r[q]),
          backgroundColor: colour(i),
        })),
      },
      options: {
        scales: { y: { beginAtZero: true, title: { display: true, text: `CLV (${body?.currency ?? ''})` } } },
      },
    },
    { emptyText: body === null ? 'No CLV to show.' : 'No customer scored by the latest fit.' },
  );
}

function fillChannelChoices(rows) {
  const select = $('f-channel');
  if (select.options.length > 1) return;
  for (const c of rows.map((r) => r.channel).sort()) select.append(el('option', {}, c));
}

let generation = 0;

async function refresh() {
  const mine = ++generation;
  setState('loading', 'loading…');
  const f = filters();
  const win = { from: f.from, to: f.to };
  try {
    // every panel at the same cut: as of the chosen day (the server's "now" and the whole log when none)
    const cut = { asOf: f.asOf, asKnownAt: f.asKnownAt };
    const slice = { ...win, segment: f.segment, channel: f.channel, ...cut };
    const [trend, channels, drivers, service, gap, retention, pain, clv, clvStatus, summary] =
      await Promise.all([
        api('/v1/aggregates/experience-trend', { ...slice, by: 'month' }),
        api('/v1/aggregates/channels', cut),
        api('/v1/aggregates/contact-drivers', slice),
        api('/v1/aggregates/service', { ...slice, by: 'priority' }),
        api('/v1/aggregates/perception-gap', slice),
        api('/v1/aggregates/retention', {
          ...cut,
          months: 12,
          segment: f.segment,
          currency: f.currency,
        }),
        api('/v1/aggregates/pain-points', { limit: 8, ...cut }),
        api('/v1/aggregates/clv', { by: 'segment' }),
        api('/v1/clv/status'),
        // Counts for the KPIs; renewals within 90 days of asOf (the server's "now" when none is chosen).
        api('/v1/aggregates/accounts', {
          segment: f.segment,
          ...cut,
          renewalWithinDays: RENEWAL_DAYS,
          currency: f.currency,
        }),
      ]);
    if (mine !== generation) return; // a newer filter change is on its way
    // One page of each list: the silence threshold is the server's (CRM_LEDGER_SILENT_DAYS).
    await loadLists(f, summary.silentAfterDays);
    if (mine !== generation) return;
    fillChannelChoices(channels.channels);
    drawTrends(trend, f.channel);
    drawChannels(channels, f.channel);
    drawDrivers(drivers.rows);
    drawService(service.rows);
    drawGap(gap.rows);
    drawSummary(summary);
    drawFollowUp(summary.signals);
    drawRetention(retention, f);
    drawPainPoints(pain.rows);
    drawClv(clv, clvStatus);
    setState('ready', '');
  } catch (error) {
    if (mine === generation) setState('error', `Could not load: ${error.message}`);
  }
}

for (const id of ['f-segment', 'f-channel', 'f-from', 'f-to', 'f-asof', 'f-known', 'f-currency'])
  $(id).addEventListener('change', refresh);
$('change-key').addEventListener('click', () => {
  forgetKey();
  void refresh();
});
void refresh();
