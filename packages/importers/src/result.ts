import type { RawEnvelope, ValidationIssue } from '@crm-ledger/events';

/** A line that became an event. */
export interface ParsedLine {
  readonly kind: 'event';
  readonly lineNumber: number;
  readonly event: RawEnvelope;
}

/** A line that carries no record (blank line, header line). */
export interface SkippedLine {
  readonly kind: 'skipped';
  readonly lineNumber: number;
  readonly reason: 'blank' | 'header';
}

/** A line that could not be turned into a valid event: an expected failure, reported as data. */
export interface LineError {
  readonly kind: 'error';
  /** 1-based line number in the source, as editors and `sed -n Np` count. */
  readonly lineNumber: number;
  readonly message: string;
  readonly issues?: readonly ValidationIssue[];
}

/** What one source line turned into. */
export type ImportLine = ParsedLine | SkippedLine | LineError;

/** Turns one line of a source into an event, a skip or an error. May keep state across lines (header, counters). */
export interface LineParser {
  parseLine(text: string, lineNumber: number): ImportLine;
  /**
   * Reads a whole source itself, for formats whose records are not lines (CSV: a quoted field may span lines).
   * Each result names the physical line its record starts on. Without it, a source is read line by line.
   */
  readSource?(
    chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  ): AsyncGenerator<ImportLine>;
}

export const lineError = (
  lineNumber: number,
  message: string,
  issues?: readonly ValidationIssue[],
): LineError =>
  issues === undefined
    ? { kind: 'error', lineNumber, message }
    : { kind: 'error', lineNumber, message, issues };

/** One line of a multi-issue validation failure, e.g. `data.amount.currency: Invalid option`. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
