import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteReadModel } from '@crm-ledger/sqlite';

/**
 * The `replay` and `export` examples of README.md and docs/cli.md, and the README's curl examples of the views,
 * run as written on the demo history (`crm-ledger seed`, 1,000 customers, as `pnpm start` seeds it): each must
 * succeed with a non-empty answer.
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const repo = path.resolve(import.meta.dirname, '../../..');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-docs-cuts-'));
const dataDir = path.join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { cwd: root, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

/**
 * `pnpm crm-ledger replay|export ...` commands of a document, in order (code blocks and inline code). A line with
 * shell operators (`||`, `|`, `&&`, `;`, a redirection) shows an error answer or plumbing: the docs-examples spec
 * runs it in a shell, this one runs only the plain selections, each expected to succeed.
 */
function examples(file: string): string[][] {
  const text = readFileSync(path.join(repo, file), 'utf8');
  return [...text.matchAll(/pnpm crm-ledger ((?:replay|export)[^`\n]*)/g)]
    .map((m) => m[1]!.replace(/\s+#.*$/, '').trim())
    .filter((command) => !/\|\||&&|[|;<>]/.test(command))
    .map((command) => command.split(/\s+/));
}

async function sql(q: string): Promise<readonly Record<string, unknown>[]> {
  const rm = openSqliteReadModel({ file: path.join(dataDir, 'readmodel.sqlite'), readonly: true });
  try {
    return await rm.sql({ sqlite: q, postgres: q });
  } finally {
    await rm.close();
  }
}

beforeAll(async () => {
  // the demo as `pnpm start` seeds it, on a fixed day (the default end is yesterday) so the answers do not drift
  const seeded = await run([
    'seed',
    '--data-dir',
    dataDir,
    '--end',
    '2026-12-02',
    '--sqlite-synchronous',
    'normal',
  ]);
  expect(seeded.stdout).toContain('history 2023-12-03 to 2026-12-02T23:59:59.999Z');
  expect(seeded.code, seeded.stderr).toBe(0);
  const built = await run(['replay', '--data-dir', dataDir]);
  expect(built.code, built.stderr).toBe(0);
}, 600_000);

describe.each(['README.md', 'docs/cli.md'])('the replay and export examples of %s', (file) => {
  const commands = examples(file);

  it('has some', () => {
    expect(commands.length).toBeGreaterThan(0);
  });

  it.each(commands.map((c) => [c.join(' '), c] as const))(
    'crm-ledger %s',
    async (_text, args) => {
      const r = await run([...args, '--data-dir', dataDir]);
      expect(r.code, r.stderr).toBe(0);
      if (args[0] === 'replay') {
        const selected = /selects ([\d,]+) events|every event up to position (\d+)/.exec(r.stdout);
        expect(selected, r.stdout).not.toBeNull();
        expect(Number((selected![1] ?? selected![2]!).replaceAll(',', ''))).toBeGreaterThan(0);
        if (args.includes('--dry-run')) expect(r.stdout).toContain('dry run: nothing rebuilt');
        else expect(r.stdout).toContain('views swapped in');
        const asOf = args.indexOf('--as-of');
        if (asOf >= 0 && !args.includes('--dry-run')) {
          const [count] = await sql('SELECT COUNT(*) AS n, MAX(month) AS last FROM value_months');
          expect(Number(count!['n'])).toBeGreaterThan(0);
          expect(String(count!['last']) <= args[asOf + 1]!.slice(0, 7)).toBe(true);
        }
      } else {
        const out = args.indexOf('--out');
        const text = out >= 0 ? readFileSync(path.join(root, args[out + 1]!), 'utf8') : r.stdout;
        const lines = text.split('\n').filter((l) => l !== '');
        expect(lines.length).toBeGreaterThan(0);
        const asOf = args.indexOf('--as-of');
        if (asOf >= 0) {
          const end = Date.parse(`${args[asOf + 1]!}T23:59:59.999Z`);
          for (const l of lines)
            expect(
              Date.parse((JSON.parse(l) as { event: { occurredAt: string } }).event.occurredAt),
            ).toBeLessThanOrEqual(end);
        }
      }
    },
    300_000,
  );
});

describe("the README's curl examples of the views", () => {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const urls = [...readme.matchAll(/^curl -s -H "\$H" "?(http:\/\/127\.0\.0\.1:4100\/v1\/[^"\s]+)"?/gm)].map(
    (m) => m[1]!,
  );

  it('run against `crm-ledger start` on the demo history, each answering 200 with content', async () => {
    expect(urls.length).toBeGreaterThanOrEqual(8);
    const child = spawn(
      process.execPath,
      [main, 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const base = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`start exited with ${code}`)));
        createInterface({ input: child.stdout }).on('line', (l) => {
          const m = /listening on (http:\/\/\S+)/.exec(l);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
      });
      const keyFile = path.join(dataDir, 'admin.key');
      expect(existsSync(keyFile)).toBe(true);
      const key = readFileSync(keyFile, 'utf8').trim();
      for (const url of urls) {
        const res = await fetch(url.replace('http://127.0.0.1:4100', base), {
          headers: { authorization: `Bearer ${key}` },
        });
        expect(res.status, url).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        const content = Object.values(body).filter((v) =>
          Array.isArray(v) ? v.length > 0 : v !== null && v !== undefined,
        );
        expect(content.length, url).toBeGreaterThan(0);
        for (const list of ['items', 'rows', 'mrr'])
          if (Array.isArray(body[list])) expect((body[list] as unknown[]).length, url).toBeGreaterThan(0);
      }
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 300_000);
});
