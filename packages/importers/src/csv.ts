import { CsvError, parse, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

/** One CSV record with the physical line it starts on (1-based; a quoted field may carry it over more lines). */
export interface CsvRecord {
  readonly kind: 'record';
  readonly lineNumber: number;
  readonly fields: readonly string[];
}

/** A record the CSV grammar refuses (an unclosed quote, text after a closing quote): the file ends there. */
export interface CsvSyntaxError {
  readonly kind: 'error';
  readonly lineNumber: number;
  readonly message: string;
}

/** The longest record read (csv-parse counts bytes): past it the record is refused instead of filling memory (an unclosed quote). */
export const MAX_RECORD_BYTES = 1_000_000;

/**
 * csv-parse's options for the importers, kept as the hand-written splitter read files before it:
 * - a BOM is dropped; records end at `\n` or `\r\n`; a quoted field may hold delimiters, `""` and line breaks;
 * - spaces around a field and around a quoted field are dropped; the inside of quotes is kept as written;
 * - a quote inside an unquoted field is a character (`a"b`); short or long records are passed on (the mapping
 *   names a missing column); a blank line is a record of one empty field (skipped by the mapping, counted).
 */
export const csvParseOptions = (delimiter: string): Options => ({
  delimiter,
  bom: true,
  record_delimiter: ['\r\n', '\n'],
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: false,
  trim: true,
  max_record_size: MAX_RECORD_BYTES,
  // unquoted fields lose every blank at their ends (as String.prototype.trim: also no-break spaces), quoted ones none
  cast: (value, context) => (context.quoting ? value : value.trim()),
});

/** A csv-parse error in words, naming the column (1-based field position) where it can. */
export function describeCsvError(err: CsvError): string {
  const column = typeof err.column === 'number' ? err.column + 1 : undefined;
  const at = column === undefined ? '' : ` (column ${column})`;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `unterminated quoted field${at}: its quote is never closed before the end of the file`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return `unexpected character after a quoted field${at}`;
    case 'CSV_MAX_RECORD_SIZE':
      return `record longer than ${MAX_RECORD_BYTES} bytes${at} (a quote never closed?)`;
    default:
      return `not CSV${at}: ${err.message}`;
  }
}

const asBuffer = (chunk: string | Uint8Array): Buffer =>
  typeof chunk === 'string'
    ? Buffer.from(chunk, 'utf8')
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/**
 * Reads CSV records from a stream of chunks (a file's bytes, strings) with csv-parse's stream parser: one chunk
 * and its records in memory at a time, whatever the size of the file. Each record names the physical line it
 * starts on (counted from the byte offsets csv-parse reports, so a record whose quoted field spans lines moves the
 * next record's number on by as many lines). A syntax error ends the records, after every record before it: what
 * follows is not read. Stopping the iteration stops reading the source.
 */
export async function* readCsvRecords(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  delimiter: string,
): AsyncGenerator<CsvRecord | CsvSyntaxError> {
  // Records are taken from csv-parse's on_record hook as it parses each chunk (synchronously, inside write), not
  // from its readable side: a stream that fails drops what it had buffered, and with it the records before the error.
  let parsed: { fields: string[]; end: number }[] = [];
  const parser = parse({
    ...csvParseOptions(delimiter),
    on_record: (fields: string[], context: { bytes: number }) => {
      parsed.push({ fields, end: context.bytes });
      return null; // nothing goes to the readable side
    },
  });
  parser.on('error', () => undefined); // each error is also given to the write's or end's callback, below
  parser.resume();
  const step = (chunk: Buffer | undefined) =>
    new Promise<Error | null | undefined>((resolve) =>
      chunk === undefined ? parser.end(resolve) : parser.write(chunk, resolve),
    );

  // byte offsets of the line feeds read but not yet behind a record: a queue, emptied as records go by
  let newlines: number[] = [];
  let head = 0;
  let bytesRead = 0;
  let linesBefore = 0; // line feeds before `recordStart`
  let recordStart = 0; // byte offset where the next record starts
  const lineAt = (offset: number): number => {
    while (head < newlines.length && newlines[head]! < offset) {
      head++;
      linesBefore++;
    }
    return linesBefore + 1;
  };
  function* take(err: Error | null | undefined): Generator<CsvRecord | CsvSyntaxError> {
    const records = parsed;
    parsed = [];
    for (const r of records) {
      const lineNumber = lineAt(recordStart);
      recordStart = r.end;
      yield { kind: 'record', lineNumber, fields: r.fields };
    }
    newlines = newlines.slice(head);
    head = 0;
    if (err === null || err === undefined) return;
    if (!(err instanceof CsvError)) throw err;
    yield { kind: 'error', lineNumber: lineAt(recordStart), message: describeCsvError(err) };
  }

  try {
    for await (const chunk of chunks) {
      const b = asBuffer(chunk);
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) newlines.push(bytesRead + i);
      bytesRead += b.length;
      const err = await step(b);
      yield* take(err);
      if (err) return;
    }
    yield* take(await step(undefined));
  } finally {
    parser.destroy();
  }
}

/** The fields of one line of CSV (csv-parse's sync parser with the options above). */
export function parseCsvLine(
  line: string,
  delimiter: string,
): { ok: true; fields: string[] } | { ok: false; message: string } {
  try {
    const records = parseSync(line, csvParseOptions(delimiter));
    return { ok: true, fields: records[0] ?? [''] };
  } catch (err) {
    if (err instanceof CsvError) return { ok: false, message: describeCsvError(err) };
    throw err;
  }
}
