import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from './openapi-document.js';

/** The repository root (this file is packages/app/{src,dist}/openapi-lint.*). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface OpenApiLintResult {
  /** redocly's exit status: 0 when the document has no errors. */
  readonly status: number;
  /** Errors and warnings redocly counted (`--format json` totals). */
  readonly errors: number;
  readonly warnings: number;
  /** What redocly printed, for the person reading the failure. */
  readonly output: string;
}

/**
 * Lints the OpenAPI document of `crm-ledger start` (assembled in memory, `openApiDocument`) with `redocly lint`
 * and the committed `redocly.yaml` at the repository root.
 */
export async function lintOpenApi(): Promise<OpenApiLintResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-openapi-lint-'));
  try {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(await openApiDocument('all'), null, 2));
    const redocly = path.join(ROOT, 'node_modules', '.bin', 'redocly');
    const run = (format: string) =>
      spawnSync(redocly, ['lint', file, '--config', path.join(ROOT, 'redocly.yaml'), `--format=${format}`], {
        cwd: ROOT,
        encoding: 'utf8',
      });
    const json = run('json');
    const totals = (JSON.parse(json.stdout) as { totals?: { errors?: number; warnings?: number } }).totals;
    const human = run('stylish');
    return {
      status: human.status ?? 1,
      errors: totals?.errors ?? Number.NaN,
      warnings: totals?.warnings ?? Number.NaN,
      output: `${human.stdout}${human.stderr}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await lintOpenApi();
  process.stdout.write(result.output);
  process.exitCode = result.status === 0 && result.errors === 0 ? 0 : 1;
}
