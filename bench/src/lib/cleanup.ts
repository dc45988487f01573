/**
 * What a bench starts, it stops: child processes it spawns (ingest servers, forked measurement children,
 * wrk) and temporary directories it creates are registered here and removed when the bench ends, whether it
 * ends normally, throws, or is stopped with SIGINT/SIGTERM. The smoke runner (smoke.ts) checks it: after
 * every bench no process it started may remain and its TMPDIR must be empty.
 */
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const tasks: (() => Promise<void> | void)[] = [];
let installed = false;

function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

function removeDirs(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Runs the registered asynchronous clean-ups (newest first), then kills children and removes directories. */
export async function cleanUp(): Promise<void> {
  for (const task of tasks.splice(0).reverse()) {
    try {
      await task();
    } catch (error) {
      process.stderr.write(`clean-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  killChildren();
  removeDirs();
}

function install(): void {
  if (installed) return;
  installed = true;
  // Synchronous last resort on any exit (normal end, uncaught error, process.exit).
  process.on('exit', () => {
    killChildren();
    removeDirs();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping what the bench started\n`);
      const hard = setTimeout(() => process.exit(code), 5_000);
      hard.unref();
      void cleanUp().finally(() => process.exit(code));
    });
  }
}

/** Registers a child process: killed (SIGKILL) if still running when the bench ends. Returns it. */
export function track<C extends ChildProcess>(child: C): C {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers an asynchronous clean-up (stop a server gracefully, close a store) run on any end. */
export function onCleanUp(task: () => Promise<void> | void): () => void {
  install();
  tasks.push(task);
  return () => {
    const i = tasks.indexOf(task);
    if (i >= 0) tasks.splice(i, 1);
  };
}

/** A fresh directory under the OS temp directory, removed when the bench ends. */
export function tempDir(prefix: string): string {
  install();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Runs a bench's main: an error is printed (stack) and exits 1 after clean-up; clean-up also runs on success. */
export function runMain(main: () => Promise<void>): void {
  install();
  main()
    .then(cleanUp, async (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
      await cleanUp();
    })
    .catch(() => {
      process.exitCode = 1;
    });
}

/**
 * fork(), tracked: the child is killed if still running when the bench ends, and its TMPDIR is a directory
 * of this process (removed by it), so what a killed child leaves in its temp directory goes too.
 */
export function forkTracked(file: string, args: readonly string[], options: ForkOptions = {}): ChildProcess {
  const tmp = tempDir('crm-ledger-bench-child-');
  return track(fork(file, args, { ...options, env: { ...(options.env ?? process.env), TMPDIR: tmp } }));
}
