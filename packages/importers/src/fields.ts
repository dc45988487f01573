import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { parseCsvLine } from './csv.js';

/** How fields are separated: a character, or `whitespace` (runs of spaces/tabs; leading/trailing ignored). */
export const Delimiter = z.union([
  z.enum(['whitespace']),
  z
    .string()
    .length(1)
    .regex(/^[^"\r\n]$/, 'one character, not a quote or newline'),
]);
export type Delimiter = z.infer<typeof Delimiter>;

/**
 * Splits one line into fields. With a character delimiter it is CSV (csv-parse): fields may be quoted
 * (`"a, b"`, `""` for a quote inside), unquoted fields are trimmed. A whole file is read with `readCsvRecords`,
 * where a quoted field may also span lines. `whitespace` is not CSV: runs of blanks separate fields, no quoting
 * (the CDNOW files).
 */
export function splitFields(line: string, delimiter: Delimiter): E.Either<string, string[]> {
  if (delimiter === 'whitespace') {
    const t = line.trim();
    return E.right(t.length === 0 ? [] : t.split(/[ \t]+/));
  }
  const r = parseCsvLine(line, delimiter);
  return r.ok ? E.right(r.fields) : E.left(r.message);
}
