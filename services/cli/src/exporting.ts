import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJson, type EventStore, type GlobalPosition, type StoredEvent } from '@crm-ledger/core';
import { customerStream, minorUnitDigits } from '@crm-ledger/events';
import type { PiiVault } from '@crm-ledger/pii';
import { inCut } from '@crm-ledger/projector';

/** `ndjson`: one JSON line an event (lossless, importable again); `csv`: one row an event, for spreadsheets. */
export type ExportFormat = 'ndjson' | 'csv';

export interface ExportOptions {
  /** Default `ndjson`. */
  readonly format?: ExportFormat;
  /** Events after this position (exclusive). */
  readonly after: GlobalPosition;
  /** Up to this position (inclusive); undefined: the head when the export started. */
  readonly until?: GlobalPosition;
  /** Business time: only events that occurred at or before this instant (UTC ISO-8601; see `inCut`). */
  readonly asOf?: string;
  /** Only this customer's stream. */
  readonly customerId?: string;
  /** Write personal fields as stored (enc:v1:...) instead of decrypting them. */
  readonly keepCiphertext: boolean;
  readonly batchSize?: number;
  /** Called after each page with the events written so far and the last position. */
  readonly onProgress?: (written: number, position: GlobalPosition) => void;
}

/** One NDJSON line of the export. */
export interface ExportLine {
  readonly position: GlobalPosition;
  readonly stream: string;
  readonly revision: number;
  readonly recordedAt: string;
  /** Present (true) when the customer was erased: their personal fields are null. */
  readonly erased?: true;
  readonly event: unknown;
}

/** Writes a line, waiting for the stream to drain when its buffer is full (constant memory on a slow reader). */
async function write(out: Writable, line: string): Promise<void> {
  if (out.write(line)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = () => done();
    out.once('drain', onDrain);
    out.once('error', done);
  });
}

async function* pages(store: EventStore, o: ExportOptions, until: GlobalPosition) {
  const batchSize = o.batchSize ?? 1000;
  if (o.customerId === undefined) {
    yield* store.readAll({ after: o.after, until, batchSize });
    return;
  }
  // one customer: page through their stream, keep the positions asked for
  let fromRevision = 0;
  for (;;) {
    const page = await store.readStream(customerStream(o.customerId), { fromRevision, maxCount: batchSize });
    if (E.isLeft(page)) throw new Error(page.left.message);
    if (page.right.length === 0) return;
    yield page.right.filter((s) => s.globalPosition > o.after && s.globalPosition <= until);
    fromRevision = page.right[page.right.length - 1]!.revision + 1;
  }
}

/** The columns taken from the event's envelope, in the order of `CSV_COLUMNS`. */
const ENVELOPE_COLUMNS = [
  'eventId',
  'type',
  'schemaVersion',
  'customerId',
  'occurredAt',
  'correlationId',
  'causationId',
  'source',
  'importId',
] as const;

/**
 * The CSV export's columns: the envelope, the money of events that carry one (`data.amount`) in major units with
 * its currency, and the whole `data` as canonical JSON (sorted keys) in one column. The columns are the same for
 * every event type, so the header is known before the first row and the export stays one page in memory.
 */
export const CSV_COLUMNS = [
  'position',
  'stream',
  'revision',
  'recordedAt',
  ...ENVELOPE_COLUMNS,
  'erased',
  'amount',
  'currency',
  'data',
] as const;

/** RFC 4180: CRLF after every record, quotes where a field needs them. */
const CSV_OPTIONS = { record_delimiter: 'windows', eof: true } as const;
/** A UTF-8 byte order mark first: without it Excel reads the file in the machine's code page (Zoë becomes ZoÃ«). */
const CSV_HEADER = '\uFEFF' + stringify([[...CSV_COLUMNS]], CSV_OPTIONS);

/**
 * A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`, as
 * OWASP advises against CSV injection: a client-supplied text never becomes a formula on an analyst's machine.
 */
const cell = (v: unknown): string => {
  const text =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : v === undefined || v === null
          ? ''
          : JSON.stringify(v);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
};

/** `1234` minor units of EUR as `12.34`, exactly (string arithmetic, no floating point). */
export function majorUnits(amountMinor: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  if (digits === 0) return String(amountMinor);
  const s = String(amountMinor).padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

function csvRow(line: ExportLine): string[] {
  type Envelope = { readonly [K in (typeof ENVELOPE_COLUMNS)[number] | 'data']?: unknown };
  const e = (line.event ?? {}) as Envelope;
  const data = e.data;
  const amount = (data as { amount?: { amountMinor?: unknown; currency?: unknown } } | null | undefined)
    ?.amount;
  const money =
    typeof amount?.amountMinor === 'number' &&
    Number.isSafeInteger(amount.amountMinor) &&
    typeof amount.currency === 'string'
      ? { amount: majorUnits(amount.amountMinor, amount.currency), currency: amount.currency }
      : { amount: '', currency: '' };
  return [
    String(line.position),
    cell(line.stream),
    String(line.revision),
    cell(line.recordedAt),
    ...ENVELOPE_COLUMNS.map((c) => cell(e[c])),
    line.erased === true ? 'true' : '',
    money.amount,
    cell(money.currency),
    data === undefined ? '' : canonicalJson(data),
  ];
}

/**
 * Why an export wrote nothing, in words for its message (`no events matched: ...`): the customer has no stream,
 * the ledger is empty, nothing was recorded after `--after`, or the cut left nothing out of what was there.
 */
export async function whyNothingMatched(
  store: EventStore,
  o: { after: GlobalPosition; until: GlobalPosition; customerId?: string; cut?: string },
): Promise<string> {
  const cut = o.cut === undefined ? '' : `, ${o.cut}`;
  if (o.customerId !== undefined) {
    const first = await store.readStream(customerStream(o.customerId), { maxCount: 1 });
    if (E.isLeft(first) || first.right.length === 0) return `customer ${o.customerId} has no stream`;
    return `customer ${o.customerId} has events, none in positions ${o.after + 1}-${o.until}${cut}`;
  }
  if (o.until === 0) return 'the ledger is empty';
  if (o.after >= o.until) return `nothing was recorded after position ${o.after} (the last is ${o.until})`;
  return `no event in positions ${o.after + 1}-${o.until}${cut}`;
}

/**
 * `crm-ledger export`: the global log (or one customer's stream) as NDJSON or CSV, one page in memory at a time.
 * Personal fields are decrypted with their customer's key; an erased customer's read as null (`erased: true`),
 * unless `keepCiphertext`. Returns how many events were written.
 */
export async function exportEvents(
  store: EventStore,
  vault: PiiVault,
  out: Writable,
  options: ExportOptions,
): Promise<{ written: number; until: GlobalPosition }> {
  const until = options.until ?? (await store.headPosition());
  const reader = vault.reader();
  const select = inCut(options.asOf === undefined ? {} : { asOf: options.asOf });
  const csv = options.format === 'csv';
  let written = 0;
  let position = options.after;
  if (csv) await write(out, CSV_HEADER);
  for await (const page of pages(store, options, until)) {
    let chunk = '';
    const rows: string[][] = [];
    for (const s of page) {
      if (!select(s)) continue;
      const line = await lineOf(s, reader, options.keepCiphertext);
      if (csv) rows.push(csvRow(line));
      else chunk += JSON.stringify(line) + '\n';
      written++;
    }
    if (rows.length > 0) chunk = stringify(rows, CSV_OPTIONS);
    if (chunk !== '') await write(out, chunk);
    if (page.length > 0) position = page[page.length - 1]!.globalPosition;
    options.onProgress?.(written, position);
  }
  return { written, until };
}

async function lineOf(
  s: StoredEvent,
  reader: ReturnType<PiiVault['reader']>,
  keepCiphertext: boolean,
): Promise<ExportLine> {
  const base = {
    position: s.globalPosition,
    stream: s.streamName,
    revision: s.revision,
    recordedAt: s.recordedAt,
  };
  if (keepCiphertext) return { ...base, event: s.event };
  const d = await reader.decrypt(s.event);
  if (E.isLeft(d)) throw new Error(d.left.message);
  return { ...base, ...(d.right.erased ? { erased: true as const } : {}), event: d.right.event };
}
