/**
 * Bytes a process read and wrote, from /proc/<pid>/io (Linux; null elsewhere or when not readable):
 * - writeBytes: bytes the process caused to be sent to storage (counted when pages are dirtied: what the disk
 *   gets, for files on a disk; 0 on tmpfs);
 * - wchar: bytes passed to write(2)/pwrite(2) and the like, whatever the file system (WAL frames, journal,
 *   checkpoint copies: every byte SQLite wrote);
 * - cancelledWriteBytes: bytes dirtied then not written because the file was truncated or deleted first.
 * /proc/<pid>/io sums every thread of the process (the store's writer thread, replay workers).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export interface IoCounters {
  readonly rchar: number;
  readonly wchar: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly cancelledWriteBytes: number;
}

export function readIo(pid: number | 'self' = 'self'): IoCounters | null {
  try {
    const fields = new Map<string, number>();
    for (const line of readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
      const [k, v] = line.split(':');
      if (k !== undefined && v !== undefined) fields.set(k.trim(), Number(v.trim()));
    }
    return {
      rchar: fields.get('rchar') ?? 0,
      wchar: fields.get('wchar') ?? 0,
      readBytes: fields.get('read_bytes') ?? 0,
      writeBytes: fields.get('write_bytes') ?? 0,
      cancelledWriteBytes: fields.get('cancelled_write_bytes') ?? 0,
    };
  } catch {
    return null;
  }
}

/** The difference of two readings (null if either is). */
export function ioSince(before: IoCounters | null, after: IoCounters | null = readIo()): IoCounters | null {
  if (before === null || after === null) return null;
  return {
    rchar: after.rchar - before.rchar,
    wchar: after.wchar - before.wchar,
    readBytes: after.readBytes - before.readBytes,
    writeBytes: after.writeBytes - before.writeBytes,
    cancelledWriteBytes: after.cancelledWriteBytes - before.cancelledWriteBytes,
  };
}

/** Bytes per event of a difference: what was written (syscalls and to storage) and read. */
export function perEvent(
  io: IoCounters | null,
  events: number,
): { writeBytes: number; wchar: number; rchar: number } | null {
  if (io === null || events === 0) return null;
  return {
    writeBytes: Math.round(io.writeBytes / events),
    wchar: Math.round(io.wchar / events),
    rchar: Math.round(io.rchar / events),
  };
}

/** The machine a result was measured on, and how busy it was (the machine is shared: say so). */
export function machine(): { cpus: number; model: string; node: string; loadavg: number[] } {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
