import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { EventStore } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import * as E from 'fp-ts/lib/Either.js';
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

/** Where an import stopped, at a bad line or a refused append: the lines before the failing batch were written. */
export interface ImportFailure {
  readonly summary: ImportSummary;
  readonly lineNumber: number;
  readonly message: string;
  readonly batch: { readonly from: number; readonly to: number };
}

/** The summary of a finished import, or (Left) where it stopped and what it wrote before. */
export type ImportResult = E.Either<ImportFailure, ImportSummary>;

async function* countingBytes(file: string, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const bytes = chunk as Buffer;
    onBytes(bytes.length);
    yield bytes;
  }
}

/**
 * Imports a file record by record (a CSV record may span lines) in batches of `batchSize` lines. A batch is
 * parsed and validated completely before any of it is written; then each customer's events of the batch are
 * one atomic append. At the first bad record the import stops without writing that batch, and names the line
 * it starts on. Event ids are deterministic, so a re-import (after fixing the line) writes only what is missing.
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
      if (E.isRight(r)) {
        summary.appended += r.right.appended;
        summary.duplicate += r.right.duplicate;
      } else {
        const line = groups[g]![1][r.left.index]?.lineNumber ?? batchStart;
        return E.left({
          summary,
          lineNumber: line,
          message: describeFailure(r.left),
          batch: { from: batchStart, to: summary.lines },
        });
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
    return E.right(summary);
  } finally {
    if (options.progress) bar.stop();
  }
}

function failed(line: LineError, summary: ImportSummary, batchStart: number): ImportResult {
  return E.left({
    summary,
    lineNumber: line.lineNumber,
    message: line.message,
    batch: { from: batchStart, to: line.lineNumber },
  });
}

/** The format a file name suggests. */
export function formatFromName(file: string): 'ndjson' | 'csv' | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  return undefined;
}

/** What an import would write, without writing it (`crm-ledger import --dry-run`). */
export interface DryRun {
  lines: number;
  events: number;
  skipped: number;
  errors: LineError[];
  customers: number;
  /** Per currency: events with an amount in it and their sum (minor units of that currency only). */
  currencies: Map<string, { events: number; amountMinor: number }>;
  /** Events whose id an earlier line of the file already gave (written once). */
  duplicatesInFile: number;
  /** Events already in the ledger (an import run before): they would be skipped as duplicates. */
  alreadyStored: number;
  /** The first mapped events, as they would be appended. */
  first: RawEnvelope[];
}

function amountOf(event: RawEnvelope): { minor: number; currency: string } | undefined {
  const d = event.data as { amount?: { amountMinor?: unknown; currency?: unknown } } | null;
  const a = d?.amount;
  return typeof a?.amountMinor === 'number' && typeof a.currency === 'string'
    ? { minor: a.amountMinor, currency: a.currency }
    : undefined;
}

/**
 * Parses and maps a whole file as `importFile` would, reads the streams of its customers to count what is
 * already stored, and writes nothing. Every bad line is collected (an import would stop at the first).
 */
export async function dryRunImport(
  store: EventStore,
  file: string,
  parser: LineParser,
  options: { sample: number },
): Promise<DryRun> {
  const out: DryRun = {
    lines: 0,
    events: 0,
    skipped: 0,
    errors: [],
    customers: 0,
    currencies: new Map(),
    duplicatesInFile: 0,
    alreadyStored: 0,
    first: [],
  };
  const ids = new Map<string, Set<string>>();
  for await (const line of parseSource(
    countingBytes(file, () => undefined),
    parser,
  )) {
    out.lines = line.lineNumber;
    if (line.kind === 'skipped') out.skipped++;
    else if (line.kind === 'error') out.errors.push(line);
    else {
      const e = line.event;
      out.events++;
      let seen = ids.get(e.customerId);
      if (seen === undefined) ids.set(e.customerId, (seen = new Set()));
      if (seen.has(e.eventId)) out.duplicatesInFile++;
      seen.add(e.eventId);
      const amount = amountOf(e);
      if (amount !== undefined) {
        const c = out.currencies.get(amount.currency) ?? { events: 0, amountMinor: 0 };
        out.currencies.set(amount.currency, {
          events: c.events + 1,
          amountMinor: c.amountMinor + amount.minor,
        });
      }
      if (out.first.length < options.sample) out.first.push(e);
    }
  }
  out.customers = ids.size;
  for (const [customerId, seen] of ids) {
    const read = await store.readStream(customerStream(customerId));
    if (E.isLeft(read)) throw new Error(read.left.message);
    for (const s of read.right) if (seen.has(s.event.eventId)) out.alreadyStored++;
  }
  return out;
}
