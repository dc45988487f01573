import type { Writable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore, GlobalPosition, StoredEvent } from '@crm-ledger/core';
import { customerStream } from '@crm-ledger/events';
import type { PiiVault } from '@crm-ledger/pii';

export interface ExportOptions {
  /** Events after this position (exclusive). */
  readonly after: GlobalPosition;
  /** Up to this position (inclusive); undefined: the head when the export started. */
  readonly until?: GlobalPosition;
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

/**
 * `crm-ledger export`: the global log (or one customer's stream) as NDJSON, one page in memory at a time.
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
  let written = 0;
  let position = options.after;
  for await (const page of pages(store, options, until)) {
    let chunk = '';
    for (const s of page) chunk += JSON.stringify(await lineOf(s, reader, options.keepCiphertext)) + '\n';
    if (chunk !== '') await write(out, chunk);
    written += page.length;
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
