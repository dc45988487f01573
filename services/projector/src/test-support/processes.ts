import { emptyRecord } from '@crm-ledger/events';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadModelStore, Row } from '@crm-ledger/core';
import { PROJECTION_NAMES, projections } from '@crm-ledger/projections';

/** The built `crm-ledger-projector`. */
export const PROJECTOR_MAIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/main.js',
);

export interface LogLine {
  msg: string;
  time?: number;
  level?: number;
  running?: string[];
  standby?: string[];
  events?: number;
  position?: number;
  url?: string;
}

/** A real projector process; its JSON log lines, parsed, and a way to wait for one. */
export function startProjector(name: string, env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(process.execPath, [PROJECTOR_MAIN], {
    env: { ...process.env, CRM_LEDGER_PORT: '0', CRM_LEDGER_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: (LogLine & { at: number })[] = [];
  let text = '';
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    partial += b.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      text += `${p}\n`;
      try {
        lines.push({ ...(JSON.parse(p) as LogLine), at: Date.now() });
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const waitFor = async (
    what: string,
    ok: (l: LogLine & { at: number }) => boolean,
    ms = 60_000,
  ): Promise<LogLine & { at: number }> => {
    const until = Date.now() + ms;
    for (;;) {
      const found = lines.find(ok);
      if (found !== undefined) return found;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > until)
        throw new Error(`${name}: no '${what}' (exit ${child.exitCode}):\n${text.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const batches = (): (LogLine & { at: number })[] => lines.filter((l) => l.msg === 'applied');
  const lockLines = (): (LogLine & { at: number })[] => lines.filter((l) => Array.isArray(l.running));
  const url = async (): Promise<string> => (await waitFor('listening', (l) => l.url !== undefined)).url!;
  const log = (): string => text;
  return { child, exited, lines, waitFor, batches, lockLines, url, log, name };
}
export type ProjectorProcess = ReturnType<typeof startProjector>;

/** Every row of every view table (state and anomalies included), in primary-key order. */
export async function dumpViews(readModel: ReadModelStore): Promise<Record<string, readonly Row[]>> {
  const out: Record<string, readonly Row[]> = emptyRecord();
  for (const name of PROJECTION_NAMES)
    for (const t of projections[name].spec.tables) {
      const sql = `SELECT * FROM ${t.name} ORDER BY ${t.primaryKey.join(', ')}`;
      out[t.name] = await readModel.sql({ sqlite: sql, postgres: sql });
    }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
