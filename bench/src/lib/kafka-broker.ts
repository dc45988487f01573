/**
 * A Kafka broker for a bench, started from infra/kafka/kafka.mjs in a temporary run directory. It never outlives
 * the bench nor leaves its run directory behind, even when the bench is stopped while the broker is starting: its
 * pid is in `<runDir>/state.json` as soon as it is spawned (before `startKafka` resolves), so the clean-up waits
 * a little for it, kills the broker and lets `tempDir` remove the directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onCleanUp, tempDir } from './cleanup.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface KafkaLauncher {
  startKafka(options: { heap?: string; runDir?: string; log?: (line: string) => void }): Promise<{
    brokers: string;
    stop: () => Promise<void>;
  }>;
  stopPid(pid: number, options?: { graceMs?: number; log?: (line: string) => void }): Promise<void>;
}

export interface Broker {
  readonly brokers: string;
  readonly stop: () => Promise<void>;
}

/** Starts a broker; `forget` unregisters its clean-up (after `broker.stop()` was awaited). */
export async function startBroker(
  heap: string,
  log: (line: string) => void,
): Promise<{ broker: Broker; forget: () => void }> {
  const launcher = (await import(
    pathToFileURL(path.join(ROOT, 'infra/kafka/kafka.mjs')).href
  )) as KafkaLauncher;
  const runDir = tempDir('crm-bench-kafka-');
  let starting = true;
  const pidOf = (): number | undefined => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { pid: number }).pid;
    } catch {
      return undefined;
    }
  };
  const forget = onCleanUp(async () => {
    let pid = pidOf();
    // startKafka may still be formatting the storage (a short java run) before it spawns the broker.
    for (let i = 0; i < 30 && pid === undefined && starting; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pid = pidOf();
    }
    if (pid !== undefined) await launcher.stopPid(pid, { graceMs: 1_000, log });
  });
  try {
    return { broker: await launcher.startKafka({ heap, runDir, log }), forget };
  } finally {
    starting = false;
  }
}
