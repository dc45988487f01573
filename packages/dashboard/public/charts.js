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

/** Draws (or redraws) the chart on `<canvas id>`. */
export function draw(id, config) {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id);
  charts.set(id, new Chart(canvas, config));
}

export const colour = (i) => PALETTE[i % PALETTE.length];
