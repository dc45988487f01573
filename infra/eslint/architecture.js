// @ts-check
/**
 * The package table of docs/architecture.md, read from the package.json files: `node infra/eslint/architecture.js`
 * prints the "imports" column of every package and service, `--check` fails when the table in the doc says
 * otherwise (run by `pnpm lint`).
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRIVERS } from './package-boundaries.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = path.join(ROOT, 'docs', 'architecture.md');

/**
 * Every workspace package and service with what its package.json lets it import at run time: workspace
 * packages (by directory name) and drivers.
 * @returns {{ dir: string, imports: string[] }[]}
 */
export function packageGraph(root = ROOT) {
  /** @type {Map<string, string>} package name -> directory name */
  const dirOf = new Map();
  /** @type {{ dir: string, deps: string[] }[]} */
  const all = [];
  for (const kind of ['packages', 'services']) {
    for (const name of readdirSync(path.join(root, kind)).sort()) {
      const file = path.join(root, kind, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      dirOf.set(pkg.name, name);
      all.push({ dir: `${kind}/${name}`, deps: Object.keys(pkg.dependencies ?? {}) });
    }
  }
  return all.map(({ dir, deps }) => ({
    dir,
    imports: [
      ...deps.flatMap((d) => (dirOf.has(d) ? [/** @type {string} */ (dirOf.get(d))] : [])).sort(),
      ...deps.filter((d) => DRIVERS.has(d)).sort(),
    ],
  }));
}

/** The rows of the doc's package table: directory -> its "imports" cell, split. */
export function documentedGraph(doc = readFileSync(DOC, 'utf8')) {
  /** @type {Map<string, string[]>} */
  const rows = new Map();
  for (const line of doc.split('\n')) {
    const m = /^\| `((?:packages|services)\/[^`]+)` \|.*\| ([^|]*) \|$/.exec(line);
    if (m === null) continue;
    const cell = m[2].trim();
    rows.set(m[1], cell === '—' ? [] : cell.split(',').map((s) => s.trim().replace(/`/g, '')));
  }
  return rows;
}

/** What the doc's table gets wrong, one line each (empty: the table is true). */
export function tableDrift(root = ROOT, doc = readFileSync(DOC, 'utf8')) {
  const documented = documentedGraph(doc);
  const problems = [];
  for (const { dir, imports } of packageGraph(root)) {
    const said = documented.get(dir);
    if (said === undefined) problems.push(`${dir} has no row in docs/architecture.md`);
    else if (said.join(', ') !== imports.join(', '))
      problems.push(`${dir}: the doc says "${said.join(', ')}", package.json says "${imports.join(', ')}"`);
    documented.delete(dir);
  }
  for (const dir of documented.keys()) problems.push(`${dir} is in docs/architecture.md but not in the tree`);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const problems = tableDrift();
    for (const p of problems) console.error(p);
    if (problems.length > 0) {
      console.error(
        'docs/architecture.md: the package table drifted (print the truth: node infra/eslint/architecture.js)',
      );
      process.exit(1);
    }
  } else {
    for (const { dir, imports } of packageGraph())
      console.log(`${dir}: ${imports.length === 0 ? '—' : imports.map((i) => `\`${i}\``).join(', ')}`);
  }
}
