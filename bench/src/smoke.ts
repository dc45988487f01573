/**
 * Smoke runner: every bench at a smoke size, in seconds, with no timing assertion. A bench is every
 * bench/dist/*.js but this one (bench/src/*.ts; helpers live in bench/src/lib/); it is run as
 * `node bench/dist/<name>.js --smoke` and fails the run when it
 * - exits with a code other than 0 (a crash, or a bench that does not take --smoke),
 * - does not end within --timeout seconds (it is then stopped with SIGTERM, and SIGKILL after 10 s),
 * - leaves a process behind (every process started by a bench carries a marker in its environment; after the
 *   bench ends none may remain), or files in its TMPDIR (a fresh, empty directory per bench).
 * Then each bench is started again and stopped with SIGTERM part-way: it must end within 10 s with a non-zero
 * code, leaving no process and no files behind (clean-up on interruption).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';

const HELP = `Usage: node bench/dist/smoke.js [options]

Runs every bench (bench/dist/*.js) with --smoke and fails when one crashes, hangs or leaves a process or a
file behind; then interrupts each with SIGTERM part-way and checks it cleans up.

Options:
  --only <list>     bench names, comma-separated (default: all)
  --timeout <s>     seconds a bench may take (default 300)
  --no-interrupt    skip the SIGTERM part-way runs
  --dir <dir>       directory of the compiled benches (default: bench/dist)
  --help            show this help
`;

const here = path.dirname(fileURLToPath(import.meta.url));
const MARKER = 'CRM_LEDGER_BENCH_SMOKE';

interface Plan {
  readonly args?: readonly string[];
  readonly skip?: string;
}

/**
 * Every bench runs with --smoke; the relay and kafka-catchup benches need the Kafka broker they start from infra/kafka, so they are
 * skipped (with a line saying why) where there is no Java.
 */
function planFor(name: string): Plan {
  if (
    (name === 'relay' || name === 'kafka-catchup') &&
    spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0
  )
    return { skip: `no Java on this machine: the ${name} bench needs the Kafka broker of infra/kafka` };
  return { args: ['--smoke'] };
}

/** Processes whose environment carries this run's marker (Linux /proc; none found elsewhere). */
function marked(marker: string): { pid: number; cmd: string }[] {
  const needle = Buffer.from(`${MARKER}=${marker}\0`);
  const found: { pid: number; cmd: string }[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  for (const p of pids) {
    try {
      if (!readFileSync(`/proc/${p}/environ`).includes(needle)) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 160);
      found.push({ pid: Number(p), cmd });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly seconds: number;
  readonly timedOut: boolean;
  /** The part-way SIGTERM was sent while the bench still ran (false: it ended first, or none was asked). */
  readonly signalled: boolean;
  readonly output: string;
  readonly leftovers: string[];
  readonly files: string[];
}

async function runOnce(
  file: string,
  args: readonly string[],
  timeoutSeconds: number,
  interruptAfterMs?: number,
): Promise<Outcome> {
  const marker = randomUUID();
  const tmp = mkdtempSync(path.join(tmpdir(), 'crm-ledger-smoke-'));
  const started = performance.now();
  const child = spawn(process.execPath, [file, ...args], {
    env: { ...process.env, TMPDIR: tmp, [MARKER]: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let timedOut = false;
  const stop = (after: number, signal: NodeJS.Signals) =>
    setTimeout(() => {
      try {
        child.kill(signal);
      } catch {
        // ended
      }
    }, after);
  const timers = [
    setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      stop(10_000, 'SIGKILL');
    }, timeoutSeconds * 1000),
  ];
  let exited = false;
  let signalled = false;
  if (interruptAfterMs !== undefined) {
    timers.push(
      setTimeout(() => {
        if (exited) return;
        signalled = true;
        try {
          child.kill('SIGTERM');
        } catch {
          // ended
        }
      }, interruptAfterMs),
    );
    timers.push(stop(interruptAfterMs + 10_000, 'SIGKILL'));
  }
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => {
      exited = true;
      resolve([c, s]);
    }),
  );
  for (const t of timers) clearTimeout(t);
  const seconds = (performance.now() - started) / 1000;
  // Whatever the bench started gets 5 s to end after it (a SIGKILLed child is reaped asynchronously).
  let left = marked(marker);
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await sleep(100);
    left = marked(marker);
  }
  for (const l of left) {
    try {
      process.kill(l.pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  for (let i = 0; i < 20 && left.length > 0 && marked(marker).length > 0; i++) await sleep(100);
  let files: string[] = [];
  try {
    files = readdirSync(tmp);
  } catch {
    files = [];
  }
  rmSync(tmp, { recursive: true, force: true });
  return {
    code,
    signal,
    seconds,
    timedOut,
    signalled,
    output,
    leftovers: left.map((l) => `${l.pid} ${l.cmd}`),
    files,
  };
}

function problems(o: Outcome, interrupted: boolean): string[] {
  const p: string[] = [];
  if (o.timedOut) p.push(`did not end within the timeout (stopped after ${o.seconds.toFixed(0)} s)`);
  else if (interrupted) {
    // Stopped on purpose: it must end by itself (not by the SIGKILL 10 s later).
    if (!o.signalled)
      p.push(`ended (${o.code ?? o.signal}) before it could be interrupted: its --smoke run is too short`);
    else if (o.signal === 'SIGKILL') p.push('did not end within 10 s of SIGTERM');
    else if (o.code === 0) p.push('ignored SIGTERM (ran to its end and exited with 0)');
  } else if (o.code !== 0) p.push(`exited with ${o.code ?? o.signal}`);
  if (o.leftovers.length > 0) p.push(`left processes behind: ${o.leftovers.join('; ')}`);
  if (o.files.length > 0) p.push(`left files in its TMPDIR: ${o.files.join(', ')}`);
  return p;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      timeout: { type: 'string', default: '300' },
      'no-interrupt': { type: 'boolean', default: false },
      dir: { type: 'string', default: here },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) throw new Error('--timeout: a positive number of seconds');
  const only = values.only?.split(',').map((s) => s.trim());
  const benches = readdirSync(values.dir)
    .filter((f) => f.endsWith('.js') && f !== 'smoke.js' && !f.includes('.spec.'))
    .map((f) => f.slice(0, -3))
    .filter((n) => only === undefined || only.includes(n))
    .sort();
  if (only !== undefined)
    for (const n of only) if (!benches.includes(n)) throw new Error(`--only: no bench named ${n}`);
  const failures: string[] = [];
  for (const name of benches) {
    const file = path.join(values.dir, `${name}.js`);
    const plan = planFor(name);
    if (plan.args === undefined) {
      process.stdout.write(`SKIP ${name}: ${plan.skip}\n`);
      continue;
    }
    const o = await runOnce(file, plan.args, timeout);
    const p = problems(o, false);
    process.stdout.write(
      `${p.length === 0 ? 'ok  ' : 'FAIL'} ${name} ${plan.args.join(' ')} (${o.seconds.toFixed(1)} s)\n`,
    );
    if (p.length > 0) {
      process.stdout.write(`---- ${name} output (tail) ----\n${o.output.slice(-4000)}\n----\n`);
      for (const x of p) failures.push(`${name}: ${x}`);
      continue;
    }
    if (values['no-interrupt']) continue;
    // Interrupted at a third of its smoke run: it must stop and clean up. A run that ends before the signal (a
    // fast machine) is tried again with half the delay, down to 200 ms.
    let after = Math.max(200, Math.round((o.seconds * 1000) / 3));
    let i = await runOnce(file, plan.args, timeout, after);
    while (!i.signalled && after > 200) {
      after = Math.max(200, Math.round(after / 2));
      i = await runOnce(file, plan.args, timeout, after);
    }
    const ip = problems(i, true);
    process.stdout.write(
      `${ip.length === 0 ? 'ok  ' : 'FAIL'} ${name} SIGTERM after ${(after / 1000).toFixed(1)} s: ended with ${i.code ?? i.signal} in ${i.seconds.toFixed(1)} s\n`,
    );
    if (ip.length > 0) {
      process.stdout.write(`---- ${name} output (tail) ----\n${i.output.slice(-4000)}\n----\n`);
      for (const x of ip) failures.push(`${name} (interrupted): ${x}`);
    }
  }
  if (failures.length > 0) {
    process.stdout.write(`\n${failures.length} problem(s):\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  } else process.stdout.write(`\nall ${benches.length} benches ran at smoke size and cleaned up\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
