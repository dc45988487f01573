import type { ImportLine, LineParser } from './result.js';

/** One line of a source with its 1-based number; the line ending (`\n` or `\r\n`) is removed. */
export interface NumberedLine {
  readonly lineNumber: number;
  readonly text: string;
}

/**
 * Splits a stream of chunks (strings or UTF-8 bytes, e.g. a Node ReadStream or a fetch body) into
 * numbered lines, holding at most one partial line in memory. Handles `\n` and `\r\n` endings and a
 * last line without an ending.
 */
export async function* splitLines(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<NumberedLine> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let lineNumber = 0;
  let first = true;
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark
      first = false;
    }
    pending += text;
    let start = 0;
    let nl = pending.indexOf('\n', start);
    while (nl !== -1) {
      lineNumber += 1;
      yield { lineNumber, text: stripCr(pending.slice(start, nl)) };
      start = nl + 1;
      nl = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  if (pending.length > 0) yield { lineNumber: lineNumber + 1, text: stripCr(pending) };
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Parses every line of a source with one parser, lazily: one result per line, in order. */
export async function* parseLines(
  lines: AsyncIterable<NumberedLine> | Iterable<NumberedLine>,
  parser: LineParser,
): AsyncGenerator<ImportLine> {
  for await (const line of lines) yield parser.parseLine(line.text, line.lineNumber);
}

/**
 * A source (chunks of a file stream) to parsed records, lazily: line by line, or as the parser reads its format
 * (`readSource`: CSV records, which may span lines). Each result names the line its record starts on.
 */
export function parseSource(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  parser: LineParser,
): AsyncGenerator<ImportLine> {
  return parser.readSource === undefined ? parseLines(splitLines(chunks), parser) : parser.readSource(chunks);
}
