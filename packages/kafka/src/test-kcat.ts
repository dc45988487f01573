import { execFileSync } from 'node:child_process';

/** A message as kcat (librdkafka, not our code) reads it from the broker. */
export interface KcatRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly payload: string | null;
  /** Every header, in order, as kcat gives them (names may repeat). */
  readonly headers: readonly (readonly [string, string])[];
}

/** Whether Debian's `kcat` is on PATH (CI installs it with apt-get; see .ci/run). */
export function kcatAvailable(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Reads a topic from the beginning to its end with `kcat -C -J -e`. Only for specs. */
export function kcatRead(brokers: string, topic: string): KcatRecord[] {
  const out = execFileSync(
    'kcat',
    [
      '-b',
      brokers,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-J',
      '-X',
      'topic.metadata.refresh.interval.ms=500',
    ],
    { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
  );
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const j = JSON.parse(line) as {
        topic: string;
        partition: number;
        offset: number;
        key: string | null;
        payload: string | null;
        headers?: string[];
      };
      const flat = j.headers ?? [];
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) headers.push([flat[i]!, flat[i + 1]!]);
      return {
        topic: j.topic,
        partition: j.partition,
        offset: j.offset,
        key: j.key,
        payload: j.payload,
        headers,
      };
    });
}
