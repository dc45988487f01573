import * as E from 'fp-ts/lib/Either.js';
import { validateEvent } from '@crm-ledger/events';
import { describeIssues, lineError, type ImportLine, type LineParser } from './result.js';

/**
 * Parses one line of NDJSON: one event envelope per line, validated against the catalogue at the
 * version it declares. The event carries its own eventId, so re-importing the file is idempotent.
 * Blank lines are skipped.
 */
export function parseNdjsonLine(text: string, lineNumber: number): ImportLine {
  if (text.trim().length === 0) return { kind: 'skipped', lineNumber, reason: 'blank' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return lineError(lineNumber, `not valid JSON: ${(e as Error).message}`);
  }
  const result = validateEvent(json);
  return E.isRight(result)
    ? { kind: 'event', lineNumber, event: result.right }
    : lineError(lineNumber, `invalid event: ${describeIssues(result.left.issues)}`, result.left.issues);
}

/** An NDJSON parser (stateless). */
export const ndjsonParser: LineParser = { parseLine: parseNdjsonLine };
