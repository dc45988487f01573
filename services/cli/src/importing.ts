import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { EventStore } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { parseSource, type LineError, type LineParser } from '@crm-ledger/importers';
import { groupByCustomer } from '@crm-ledger/ingest-api';
import { appendResumable, inPool } from './append.js';
import { describeFailure } from './seeding.js';

export interface ImportSummary {
  lines: number;
  events: number;
  appended: number;
  duplicate: number;
  skipped: number;
}

export type ImportResult =
  | { ok: true; summary: ImportSummary }
  /** Stopped at a bad line or a refused append; `writtenBefore` lines were written, the failing batch not. */
  | {
      ok: false;
      summary: ImportSummary;
      lineNumber: number;
      message: string;
      batch: { from: number; to: number };
    };

async function* countingBytes(file: string, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const bytes = chunk as Buffer;
    onBytes(bytes.length);
    yield bytes;
  }
}

/**
 * Imports a file line by line in batches of `batchSize` lines. A batch is parsed and validated completely
 * before any of it is written; then each customer's events of the batch are one atomic append. At the
 * first bad line the import stops without writing that batch, and names the line. Event ids are
 * deterministic, so a re-import (after fixing the line) writes only what is missing.
 */
export async function importFile(
  store: EventStore,
  file: string,
  parser: LineParser,
  options: { batchSize: number; progress: boolean },
): Promise<ImportResult> {
  const size = statSync(file).size;
  const bar = new cliProgress.SingleBar(
    {
      format: `import [{bar}] {percentage}% | {events} events | line {line} | {eta_formatted} left`,
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let bytes = 0;
  if (options.progress) bar.start(size, 0, { events: 0, line: 0 });
  const summary: ImportSummary = { lines: 0, events: 0, appended: 0, duplicate: 0, skipped: 0 };
  let batch: { lineNumber: number; event: RawEnvelope }[] = [];
  let batchStart = 1;

  const write = async (): Promise<ImportResult | undefined> => {
    const groups = [...groupByCustomer(batch).entries()];
    const results = await inPool(groups, 8, ([customerId, items]) =>
      appendResumable(
        store,
        customerId,
        items.map((i) => i.event),
      ),
    );
    for (const [g, r] of results.entries()) {
      if (r.ok) {
        summary.appended += r.written.appended;
        summary.duplicate += r.written.duplicate;
      } else {
        const line = groups[g]![1][r.failure.index]?.lineNumber ?? batchStart;
        return {
          ok: false,
          summary,
          lineNumber: line,
          message: describeFailure(r.failure),
          batch: { from: batchStart, to: summary.lines },
        };
      }
    }
    summary.events += batch.length;
    batch = [];
    batchStart = summary.lines + 1;
    return undefined;
  };

  try {
    for await (const line of parseSource(
      countingBytes(file, (n) => (bytes += n)),
      parser,
    )) {
      summary.lines = line.lineNumber;
      if (line.kind === 'skipped') summary.skipped += 1;
      else if (line.kind === 'error') return failed(line, summary, batchStart);
      else batch.push({ lineNumber: line.lineNumber, event: line.event });
      if (line.lineNumber - batchStart + 1 >= options.batchSize) {
        const failure = await write();
        if (failure !== undefined) return failure;
        if (options.progress) bar.update(bytes, { events: summary.events, line: summary.lines });
      }
    }
    const failure = await write();
    if (failure !== undefined) return failure;
    if (options.progress) bar.update(size, { events: summary.events, line: summary.lines });
    return { ok: true, summary };
  } finally {
    if (options.progress) bar.stop();
  }
}

function failed(line: LineError, summary: ImportSummary, batchStart: number): ImportResult {
  return {
    ok: false,
    summary,
    lineNumber: line.lineNumber,
    message: line.message,
    batch: { from: batchStart, to: line.lineNumber },
  };
}

/** The format a file name suggests. */
export function formatFromName(file: string): 'ndjson' | 'csv' | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  return undefined;
}
