import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file the dashboard serves: where it is on disk and its content type. */
export interface Asset {
  readonly file: string;
  readonly type: string;
}

const publicDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

const PAGES = [
  'index.html',
  'customer.html',
  'app.css',
  'api.js',
  'charts.js',
  'overview.js',
  'customer.js',
  'timeline.js',
];

/**
 * The fixed set of files under the dashboard prefix (no directory listing, no path from the request reaches
 * the file system): the pages of `public/` and Chart.js's UMD build straight from node_modules.
 */
export function dashboardAssets(): ReadonlyMap<string, Asset> {
  const chartDist = path.dirname(createRequire(import.meta.url).resolve('chart.js'));
  const entries: [string, Asset][] = PAGES.map((name) => [
    name,
    { file: path.join(publicDir, name), type: TYPES[path.extname(name)] ?? 'application/octet-stream' },
  ]);
  entries.push(['', { file: path.join(publicDir, 'index.html'), type: TYPES['.html']! }]);
  entries.push([
    'vendor/chart.umd.min.js',
    { file: path.join(chartDist, 'chart.umd.min.js'), type: TYPES['.js']! },
  ]);
  return new Map(entries);
}
