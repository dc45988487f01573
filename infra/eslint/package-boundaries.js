// @ts-check
/**
 * ESLint rule `crm/package-boundaries`: which workspace package may import what (issue #19). The table below is
 * the rule; docs/architecture.md states it for people. Checked on every `import`, `export ... from` and
 * `import('...')` with a literal specifier:
 *
 * 1. A driver is imported only by its vendor package (better-sqlite3 by packages/sqlite, pg by
 *    packages/postgres, @eventstore/db-client by packages/eventstoredb, kafkajs by packages/kafka).
 *    Test code (specs, test-support/, test-*.ts, bench) may open a driver to look at what was stored.
 * 2. The domain (events, projections, clv) imports no vendor package.
 * 3. A port package (core, events, pii, http-kit) imports no vendor package: vendors implement ports, the
 *    dependency points from the vendor to the port, never back.
 * 4. A vendor package imports, of the workspace, only the ports; so vendor packages never import each other.
 *    Its specs may also use test tools and other packages (a parity spec runs SQLite beside PostgreSQL).
 * 5. A library (packages/*) never imports a service (services/*, named `@crm-ledger/<name>-service`).
 */

/** Driver -> the one package (directory under packages/) that may import it. */
export const DRIVERS = new Map([
  ['better-sqlite3', 'sqlite'],
  ['pg', 'postgres'],
  ['@eventstore/db-client', 'eventstoredb'],
  ['kafkajs', 'kafka'],
]);
/** The vendor packages: one per vendor, each the only importer of its driver. */
export const VENDORS = new Set(DRIVERS.values());
/** The domain: pure code that knows no vendor. */
export const DOMAIN = new Set(['events', 'projections', 'clv']);
/** The ports: interfaces (and their in-memory or crypto parts) that the vendor packages implement. */
export const PORTS = new Set(['core', 'events', 'pii', 'http-kit']);

const WORKSPACE = '@crm-ledger/';

/**
 * Where a file sits: `{ kind: 'package' | 'service' | 'bench' | 'other', name }`, from its path relative to
 * the repository root.
 * @param {string} relative path with forward slashes
 */
export function locate(relative) {
  const m = /^(packages|services)\/([^/]+)\//.exec(relative);
  if (m !== null) return { kind: m[1] === 'packages' ? 'package' : 'service', name: m[2] };
  if (relative.startsWith('bench/')) return { kind: 'bench', name: 'bench' };
  return { kind: 'other', name: '' };
}

/** Specs, test support (`test-support/`, `test-*.ts`) and benchmarks: code that inspects stores rather than being one. */
export function isTestCode(/** @type {string} */ relative) {
  return (
    /\.spec\.[cm]?[jt]s$/.test(relative) ||
    /(^|\/)test-support\//.test(relative) ||
    /(^|\/)test-[^/]*\.[cm]?[jt]s$/.test(relative) ||
    relative.startsWith('bench/')
  );
}

/**
 * What a specifier names: a driver, a workspace package (by directory name for packages/, by service name for
 * services/), or something else.
 * @param {string} spec
 */
function classify(spec) {
  for (const driver of DRIVERS.keys())
    if (spec === driver || spec.startsWith(`${driver}/`)) return { driver };
  if (spec.startsWith(WORKSPACE)) {
    const name = spec.slice(WORKSPACE.length).split('/')[0];
    if (name.endsWith('-service')) return { service: name };
    return { workspace: name };
  }
  return {};
}

/**
 * The reason `spec` may not be imported from the file at `relative`, or undefined when it may.
 * @param {string} relative
 * @param {string} spec
 * @returns {string | undefined}
 */
export function violation(relative, spec) {
  const here = locate(relative);
  const test = isTestCode(relative);
  const what = classify(spec);
  if (what.driver !== undefined) {
    const owner = DRIVERS.get(what.driver);
    if (test || (here.kind === 'package' && here.name === owner)) return undefined;
    return `${what.driver} is imported only by packages/${owner} (@crm-ledger/${owner}): use its adapters.`;
  }
  if (here.kind !== 'package') return undefined;
  if (what.service !== undefined)
    return `a library (packages/${here.name}) never imports a service (@crm-ledger/${what.service}).`;
  const target = what.workspace;
  if (target === undefined || target === here.name) return undefined;
  if (DOMAIN.has(here.name) && VENDORS.has(target))
    return `the domain (packages/${here.name}) imports no vendor package (@crm-ledger/${target}).`;
  if (PORTS.has(here.name) && VENDORS.has(target))
    return `a port (packages/${here.name}) imports no vendor package (@crm-ledger/${target}): the vendor implements the port.`;
  if (VENDORS.has(here.name) && !test && !PORTS.has(target))
    return `a vendor package (packages/${here.name}) imports only the ports (${[...PORTS].join(', ')}), not @crm-ledger/${target}.`;
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const packageBoundaries = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Which workspace package may import which driver or package (docs/architecture.md)',
    },
    schema: [],
    messages: { boundary: 'Package boundary: {{why}}' },
  },
  create(context) {
    const root = context.cwd.replace(/\\/g, '/').replace(/\/$/, '');
    const file = context.filename.replace(/\\/g, '/');
    const relative = file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
    /** @param {import('estree').Node | null | undefined} source */
    const check = (source) => {
      if (source === null || source === undefined) return;
      if (source.type !== 'Literal' || typeof source.value !== 'string') return;
      const why = violation(relative, source.value);
      if (why !== undefined) context.report({ node: source, messageId: 'boundary', data: { why } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};
