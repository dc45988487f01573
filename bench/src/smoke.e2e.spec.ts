import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The compiled runner (pnpm test builds first), run over fixture benches that misbehave in each way it checks.
const runner = path.resolve(import.meta.dirname, '../dist/smoke.js');
const fixtures = mkdtempSync(path.join(tmpdir(), 'crm-ledger-smoke-spec-'));
afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

function bench(name: string, source: string): string {
  const dir = mkdtempSync(path.join(fixtures, `${name}-`));
  writeFileSync(path.join(dir, `${name}.js`), source);
  return dir;
}

function smoke(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [runner, '--dir', dir, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const cleanBench = `
import { parseArgs } from 'node:util';
const { values } = parseArgs({ options: { smoke: { type: 'boolean' } } });
if (!values.smoke) process.exit(2);
setTimeout(() => console.log('done'), 1500);
`;

describe('bench smoke runner', () => {
  it('passes a bench that takes --smoke, ends with 0, stops on SIGTERM and leaves nothing behind', () => {
    const r = smoke(bench('tidy', cleanBench));
    expect(r.out).toContain('ok   tidy --smoke');
    expect(r.out).toMatch(/ok {3}tidy SIGTERM after/);
    expect(r.status).toBe(0);
  });

  it('fails a bench that does not take --smoke (strict options) or crashes', () => {
    const r = smoke(
      bench('strict', "import { parseArgs } from 'node:util'; parseArgs({ options: {} });"),
      '--no-interrupt',
    );
    expect(r.out).toContain('strict: exited with 1');
    expect(r.status).toBe(1);
  });

  it('fails a bench that leaves a process or a temporary file behind, and kills the process', () => {
    const r = smoke(
      bench(
        'leaky',
        `import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
mkdtempSync(path.join(tmpdir(), 'left-'));
const c = spawn('sleep', ['37'], { detached: true, stdio: 'ignore' });
c.unref();
console.log('sleeper', c.pid);`,
      ),
      '--no-interrupt',
    );
    expect(r.out).toMatch(/leaky: left processes behind: \d+ sleep 37/);
    expect(r.out).toMatch(/leaky: left files in its TMPDIR: left-/);
    expect(r.status).toBe(1);
    const pid = Number(/sleeper (\d+)/.exec(r.out)?.[1]);
    // gone, or a zombie waiting for its new parent to reap it: not running any more
    let state = 'gone';
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? 'gone';
    } catch {
      // gone
    }
    expect(['gone', 'Z', 'X']).toContain(state);
  });

  it('fails a bench that hangs past the timeout', () => {
    const r = smoke(bench('hang', 'setInterval(() => {}, 1000);'), '--timeout', '2', '--no-interrupt');
    expect(r.out).toContain('hang: did not end within the timeout');
    expect(r.status).toBe(1);
  });

  it('fails a bench that ignores SIGTERM when interrupted', () => {
    const r = smoke(bench('deaf', `process.on('SIGTERM', () => {});\n${cleanBench.replace('1500', '2500')}`));
    expect(r.out).toContain('deaf (interrupted): ignored SIGTERM');
    expect(r.status).toBe(1);
  });
});
