// Chart.js (UMD build served from node_modules as vendor/chart.umd.min.js) with one chart per canvas id.
const Chart = window.Chart;
const charts = new Map();

export const PALETTE = [
  '#2563eb',
  '#16a34a',
  '#dc2626',
  '#d97706',
  '#7c3aed',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#475569',
  '#ea580c',
];
export const BAND_COLOURS = { green: '#16a34a', yellow: '#eab308', red: '#dc2626' };

Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.font.size = 11;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

const hasData = (data) =>
  (data.labels === undefined || data.labels.length > 0) &&
  data.datasets.some((d) => d.data.some((v) => v !== null && v !== undefined));

/**
 * Draws (or redraws) the chart on `<canvas id>`. A chart with nothing to show draws no axes: the canvas is
 * hidden and `emptyText` says so in its place (`empty` forces that, e.g. when every count is 0).
 */
export function draw(id, config, { emptyText = 'No data for these filters.', empty = false } = {}) {
  charts.get(id)?.destroy();
  charts.delete(id);
  const canvas = document.getElementById(id);
  const box = canvas.parentElement;
  let note = box.querySelector('.chart-empty');
  if (empty || !hasData(config.data)) {
    box.classList.add('empty');
    if (note === null) {
      note = document.createElement('p');
      note.className = 'chart-empty';
      box.append(note);
    }
    note.textContent = emptyText;
    return;
  }
  box.classList.remove('empty');
  note?.remove();
  charts.set(id, new Chart(canvas, config));
}

/** A y (or x) axis of a rate in percent: 0 to 100 (higher when a value exceeds 100, e.g. NRR with expansion). */
export function percentAxis(values, title) {
  const top = Math.max(100, ...values.filter((v) => typeof v === 'number'));
  return { min: 0, max: Math.ceil(top / 10) * 10, title: { display: true, text: title } };
}

/** An axis of counts: from 0, whole numbers only. */
export const countAxis = (title, extra = {}) => ({
  beginAtZero: true,
  min: 0,
  ticks: { precision: 0 },
  ...(title === undefined ? {} : { title: { display: true, text: title } }),
  ...extra,
});

export const colour = (i) => PALETTE[i % PALETTE.length];
