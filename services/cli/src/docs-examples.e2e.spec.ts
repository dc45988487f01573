import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docExamples, type DocCommand } from './test-support/docs-examples.js';

/**
 * Every shell example of README.md and docs/*.md, run as written against a real `crm-ledger start` on the demo
 * data (see `docExamples` for what counts as an example and how a block opts out). A doc that no test runs
 * drifts: this spec is what keeps the README's curl lines and the CLI examples true.
 */
const repo = path.resolve(import.meta.dirname, '../../..');
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const work = mkdtempSync(path.join(tmpdir(), 'crm-ledger-docs-'));
const bin = path.join(work, 'bin');
let server: ChildProcess | undefined;
let port = 0;

afterAll(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  server?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

beforeAll(async () => {
  // `pnpm crm-ledger ...` in the docs runs the built command; the examples' files come from the repository.
  mkdirSync(bin);
  const pnpm = path.join(bin, 'pnpm');
  writeFileSync(
    pnpm,
    `#!/usr/bin/env bash\nif [ "$1" = crm-ledger ]; then shift; exec "${process.execPath}" "${main}" "$@"; fi\n` +
      `echo "docs-examples: only 'pnpm crm-ledger' is run here, not: pnpm $*" >&2; exit 97\n`,
  );
  chmodSync(pnpm, 0o755);
  // some docs write the installed command's name, `crm-ledger ...`
  const cli = path.join(bin, 'crm-ledger');
  writeFileSync(cli, `#!/usr/bin/env bash\nexec "${process.execPath}" "${main}" "$@"\n`);
  chmodSync(cli, 0o755);
  for (const entry of ['examples', 'infra', 'docs', 'services', 'packages', 'bench'])
    runSync(`ln -s "${path.join(repo, entry)}" "${path.join(work, entry)}"`);
  server = spawn(
    process.execPath,
    [main, 'start', '--seed-if-empty', '--data-dir', path.join(work, '.data'), '--port', '0'],
    { cwd: work, env: { ...process.env, CRM_LEDGER_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stderr!.resume();
  const lines = createInterface({ input: server.stdout! });
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('crm-ledger start did not print its banner in 240 s')),
      240_000,
    );
    lines.on('line', (line) => {
      const m = /^crm-ledger listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    server!.once('exit', (code) => reject(new Error(`crm-ledger start exited with ${code}`)));
  });
  // the views catch up with the demo history before the examples ask them anything
  await waitFor(async () => {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    return ready.ok;
  });
  await waitForViews();
}, 300_000);

function runSync(command: string): void {
  execFile('bash', ['-c', command]);
}

async function waitFor(check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error('timed out waiting for the ledger');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitForViews(): Promise<void> {
  const key = readFileSync(path.join(work, '.data', 'admin.key'), 'utf8').trim();
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/customers/c-000007`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return res.ok;
  }, 240_000);
  // the start-up CLV fit of the demo history (the docs show it): it converges, and the examples read it
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/clv/fit`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return res.ok;
  }, 240_000);
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runExample(prelude: readonly string[], command: DocCommand): Promise<Ran> {
  const script = ['set -o pipefail', ...prelude.map((p) => rewrite(p)), rewrite(command.text)].join('\n');
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      {
        cwd: work,
        timeout: 180_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, CRM_LEDGER_LOG_FORMAT: 'json' },
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

/** The docs say port 4100 (the default); the spec's ledger listens on a free port. */
function rewrite(text: string): string {
  return text
    .replaceAll('127.0.0.1:4100', `127.0.0.1:${port}`)
    .replaceAll('localhost:4100', `127.0.0.1:${port}`);
}

const files = [
  path.join(repo, 'README.md'),
  ...readdirSync(path.join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join(repo, 'docs', f)),
];

describe('every shell example of README.md and docs/ runs as written', () => {
  for (const file of files) {
    const examples = docExamples(readFileSync(file, 'utf8'));
    const name = path.relative(repo, file);
    if (examples.length === 0) continue;
    it(`${name}: ${examples.length} commands`, async () => {
      const prelude: string[] = [];
      const failures: string[] = [];
      for (const example of examples) {
        if (example.kind === 'assignment') {
          prelude.push(example.text);
          continue;
        }
        const ran = await runExample(prelude, example);
        const output = ran.stdout + ran.stderr;
        const where = `${name}:${example.line}: ${example.text.split('\n')[0]!.slice(0, 120)}`;
        if (ran.code !== 0) {
          failures.push(`${where}\n  exit ${ran.code}: ${output.slice(0, 600)}`);
          continue;
        }
        if (example.kind === 'curl') {
          if (ran.stdout.trim() === '') failures.push(`${where}\n  answered nothing`);
          else if (example.expectsError && !ran.stdout.includes('{"error":{"code":'))
            failures.push(
              `${where}\n  the comment above promises an error, got: ${ran.stdout.slice(0, 300)}`,
            );
          else if (!example.expectsError && /"error":\{"code":/.test(ran.stdout))
            failures.push(`${where}\n  answered an error: ${ran.stdout.slice(0, 300)}`);
        } else if (example.kind === 'command' && !example.quiet && output.trim() === '') {
          failures.push(`${where}\n  printed nothing`);
        }
      }
      expect(failures).toEqual([]);
    }, 900_000);
  }
});
