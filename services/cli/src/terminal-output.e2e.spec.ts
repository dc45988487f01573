import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a person sees: `crm-ledger start` on a terminal (a pseudo-terminal from util-linux `script`, as a person's
 * shell would give it) prints the banner and readable log lines, never pino's JSON; with stdout piped (a log
 * shipper, systemd, docker) it writes JSON lines.
 */
const main = path.resolve(import.meta.dirname, '../dist/main.js');
const root = mkdtempSync(path.join(tmpdir(), 'crm-ledger-tty-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `start` until its banner and a few seconds more, then stops it; what it printed, colours removed. */
function startAndCapture(args: readonly string[], onTerminal: boolean): Promise<string> {
  const command = [process.execPath, main, 'start', ...args].map((a) => `'${a}'`).join(' ');
  const child = onTerminal
    ? spawn('script', ['-qfec', command, '/dev/null'], {
        env: { ...process.env, CRM_LEDGER_LOG_FORMAT: '' },
        detached: true,
      })
    : spawn('bash', ['-c', `${command} 2>&1 | cat`], {
        env: { ...process.env, CRM_LEDGER_LOG_FORMAT: '' },
        detached: true,
      });
  // Signals go to the whole process group: piped, `bash -c` does not pass SIGINT on to the ledger under it, which
  // was left running after the test.
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(new Error(`no banner in 180 s:\n${out.slice(-2000)}`));
    }, 180_000);
    const poll = setInterval(() => {
      if (!out.includes('stop with Ctrl-C')) return;
      clearInterval(poll);
      // a little of what follows the banner (status, the first log lines), then Ctrl-C
      setTimeout(() => {
        signal('SIGINT');
        setTimeout(() => signal('SIGKILL'), 5_000).unref();
      }, 3_000);
    }, 100);
    child.on('exit', () => {
      clearTimeout(timer);
      clearInterval(poll);
      // eslint-disable-next-line no-control-regex
      resolve(out.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n'));
    });
  });
}

describe('crm-ledger start output', () => {
  it('on a terminal: the banner and readable lines, no JSON', async () => {
    const dir = path.join(root, 'tty');
    const out = await startAndCapture(
      ['--seed-if-empty', '--seed-customers', '60', '--data-dir', dir, '--port', '0'],
      true,
    );
    expect(out).toMatch(/crm-ledger listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain('seeded the empty store with');
    const jsonLines = out.split('\n').filter((l) => l.trim().startsWith('{"level"'));
    expect(jsonLines).toEqual([]);
    expect(out).toMatch(/\d\d:\d\d:\d\d\] INFO: /); // pino-pretty's lines
    // the live status after the banner: events in the ledger and the views' catch-up, in words
    const status = out.slice(out.indexOf('stop with Ctrl-C'));
    expect(status).toMatch(
      /^status: [\d,]+ events in the ledger · (all 4 views caught up|views caught up \d\/4 · behind: )/m,
    );
  }, 240_000);

  it('piped: JSON lines a log shipper can read', async () => {
    const dir = path.join(root, 'pipe');
    const out = await startAndCapture(
      ['--seed-if-empty', '--seed-customers', '20', '--data-dir', dir, '--port', '0'],
      false,
    );
    expect(out).toContain('crm-ledger listening on');
    const json = out.split('\n').filter((l) => l.startsWith('{"level"'));
    expect(json.length).toBeGreaterThan(0);
    for (const l of json) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(out).not.toMatch(/^status: /m); // no live status when nobody watches a terminal
  }, 240_000);
});
